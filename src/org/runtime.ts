import { readFile } from 'node:fs/promises';
import { EmblemError } from '../core/errors.js';
import { loadSigningKey, type SigningKey } from '../core/tokens/sign.js';
import { skipCommitmentCheck, type CommitmentChecker } from '../core/verify/commitment.js';
import { readPrivateKeyFile } from '../store/key-file.js';
import type { OrgRuntime } from './apply.js';
import { openChannels } from './channels/index.js';
import { loadConfig, settings, type KeyRef, type OrgConfig } from './config.js';
import { endorsementsDigest, folderPath, receivedEndorsements } from './sign.js';

interface KeyOptions {
  passphrase: string | undefined;
  /** PIN file for PKCS#11 keys (CLI); else the reference's pinFile, else $EMBLEM_PKCS11_PIN. */
  pkcs11PinFile: string | undefined;
  /** Sessions opened for token keys, closed by the runtime's close(). */
  opened: Array<() => void>;
}

async function publicJwkOf(dir: string, ref: KeyRef, field: string): Promise<JsonWebKey | undefined> {
  if (!ref.public) return undefined;
  try {
    const { d: _d, ...pub } = JSON.parse(await readFile(folderPath(dir, ref.public), 'utf8')) as Record<string, unknown>;
    return pub as JsonWebKey;
  } catch {
    throw new EmblemError('CONFIG_INVALID', `${field}.public: cannot read a public JWK from ${ref.public}`);
  }
}

async function loadKey(dir: string, ref: KeyRef, field: string, o: KeyOptions): Promise<SigningKey> {
  if (ref.pkcs11) {
    // The private key stays in the token: this opens a logged-in session and signs through it.
    const { openTokenKey, tokenPin } = await import('./token-key.js');
    const pin = await tokenPin(ref.pkcs11, { pinFile: o.pkcs11PinFile, resolvePath: (p) => folderPath(dir, p) });
    const expectedPublic = await publicJwkOf(dir, ref, field);
    const key = await openTokenKey(ref.pkcs11, { field, pin, ...(expectedPublic ? { expectedPublic } : {}) });
    o.opened.push(key.close);
    return key.signingKey;
  }
  if (!ref.file) throw new EmblemError('CONFIG_INVALID', `${field}: needs "file" (or "pkcs11")`);
  const jwk = await readPrivateKeyFile(folderPath(dir, ref.file), o.passphrase);
  return loadSigningKey(jwk);
}

/** JWS kid of a key from its public file (plan re-signs sets signed by another key), or undefined without one. */
async function kidOf(dir: string, ref: KeyRef, field: string): Promise<string | undefined> {
  if (!ref.public) return undefined;
  try {
    const { parsePublicJwk } = await import('../core/tokens/keys.js');
    const { d: _d, ...pub } = JSON.parse(await readFile(folderPath(dir, ref.public), 'utf8')) as Record<string, unknown>;
    return parsePublicJwk(pub).jwsKid;
  } catch {
    throw new EmblemError('CONFIG_INVALID', `${field}.public: cannot read a public JWK from ${ref.public}`);
  }
}

/** Everything an org command needs, from the folder: config, channels, lazily loaded keys and CT checker. */
export async function openRuntime(
  dir: string,
  options: { now: number; passphrase?: string; pkcs11PinFile?: string; log?: (e: Record<string, unknown>) => void; config?: OrgConfig },
): Promise<OrgRuntime & { close(): void }> {
  const config = options.config ?? (await loadConfig(dir));
  const s = settings(config);
  const channels = await openChannels(config.channels, { host: s.host, ihleType: s.ihleType, resolvePath: (p) => folderPath(dir, p) });
  const emblemKid = await kidOf(dir, config.keys.emblem, 'config.keys.emblem');
  const rootKid = await kidOf(dir, config.keys.root, 'config.keys.root');
  // Unreadable endorsement files are reported when signing (CONFIG_INVALID); here they only leave the digest unknown.
  const endorsements = await receivedEndorsements(dir, config).then(endorsementsDigest, () => undefined);
  let keys: Promise<{ root: SigningKey; emblem: SigningKey }> | null = null;
  const keyOptions: KeyOptions = { passphrase: options.passphrase, pkcs11PinFile: options.pkcs11PinFile, opened: [] };
  let checker: Promise<CommitmentChecker> | null = null;
  return {
    dir,
    config,
    channels,
    now: options.now,
    ...(emblemKid ? { emblemKid } : {}),
    ...(rootKid ? { rootKid } : {}),
    ...(endorsements ? { endorsements } : {}),
    log: options.log ?? (() => {}),
    keys: () =>
      (keys ??= (async () => ({
        root: await loadKey(dir, config.keys.root, 'config.keys.root', keyOptions),
        emblem: await loadKey(dir, config.keys.emblem, 'config.keys.emblem', keyOptions),
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
    /** Closes token sessions (PKCS#11 keys); a long-running `org run` opens a runtime per wake-up. */
    close: () => {
      for (const close of keyOptions.opened.splice(0)) close();
    },
  };
}
