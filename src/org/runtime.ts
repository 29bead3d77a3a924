import { EmblemError } from '../core/errors.js';
import { loadSigningKey, type SigningKey } from '../core/tokens/sign.js';
import { skipCommitmentCheck, type CommitmentChecker } from '../core/verify/commitment.js';
import { readPrivateKeyFile } from '../store/key-file.js';
import type { OrgRuntime } from './apply.js';
import { openChannels } from './channels/index.js';
import { loadConfig, settings, type KeyRef, type OrgConfig } from './config.js';
import { folderPath } from './sign.js';

async function loadKey(dir: string, ref: KeyRef, field: string, passphrase: string | undefined): Promise<SigningKey> {
  if (ref.pkcs11) throw new EmblemError('KEY_STORE_UNSUPPORTED', `${field}: PKCS#11 keys are provided by src/keys/pkcs11.ts (org cert branch); not in this build`);
  if (!ref.file) throw new EmblemError('CONFIG_INVALID', `${field}: needs "file" (or "pkcs11")`);
  const jwk = await readPrivateKeyFile(folderPath(dir, ref.file), passphrase);
  return loadSigningKey(jwk);
}

/** Everything an org command needs, from the folder: config, channels, lazily loaded keys and CT checker. */
export async function openRuntime(dir: string, options: { now: number; passphrase?: string; log?: (e: Record<string, unknown>) => void; config?: OrgConfig }): Promise<OrgRuntime> {
  const config = options.config ?? (await loadConfig(dir));
  const s = settings(config);
  const channels = await openChannels(config.channels, { host: s.host, ihleType: s.ihleType, resolvePath: (p) => folderPath(dir, p) });
  let emblemKid: string | undefined;
  if (config.keys.emblem.public) {
    try {
      const { readFile } = await import('node:fs/promises');
      const { parsePublicJwk } = await import('../core/tokens/keys.js');
      const { d: _d, ...pub } = JSON.parse(await readFile(folderPath(dir, config.keys.emblem.public), 'utf8')) as Record<string, unknown>;
      emblemKid = parsePublicJwk(pub).jwsKid;
    } catch {
      throw new EmblemError('CONFIG_INVALID', `config.keys.emblem.public: cannot read a public JWK from ${config.keys.emblem.public}`);
    }
  }
  let keys: Promise<{ root: SigningKey; emblem: SigningKey }> | null = null;
  let checker: Promise<CommitmentChecker> | null = null;
  return {
    dir,
    config,
    channels,
    now: options.now,
    ...(emblemKid ? { emblemKid } : {}),
    log: options.log ?? (() => {}),
    keys: () =>
      (keys ??= (async () => ({
        root: await loadKey(dir, config.keys.root, 'config.keys.root', options.passphrase),
        emblem: await loadKey(dir, config.keys.emblem, 'config.keys.emblem', options.passphrase),
      }))()),
    commitments: () =>
      (checker ??= (async () => {
        if (config.verify?.skipCommitmentCheck) return skipCommitmentCheck;
        const { ctCheckerFromOptions } = await import('../cli/commitment-options.js');
        return ctCheckerFromOptions({
          logList: (config.ctLogLists ?? []).map((l) => (/^https?:/.test(l) ? l : folderPath(dir, l))),
          ...(config.verify?.caBundle ? { caBundle: folderPath(dir, config.verify.caBundle) } : {}),
        });
      })()),
  };
}
