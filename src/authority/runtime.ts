import { readFile } from 'node:fs/promises';
import { EmblemError } from '../core/errors.js';
import { parseOrganizationIdentifier } from '../core/identifiers/organization.js';
import { parsePublicJwk, type PublicKey } from '../core/tokens/keys.js';
import { loadSigningKey, type SigningKey } from '../core/tokens/sign.js';
import { skipCommitmentCheck, type CommitmentChecker, type LogPointer } from '../core/verify/commitment.js';
import { folderPath } from '../org/sign.js';
import { readPrivateKeyFile } from '../store/key-file.js';
import { durationSeconds } from '../org/config.js';
import { loadAuthorityConfig, type AuthorityConfig } from './config.js';
import { AuthorityLimits } from './limits.js';

export interface AuthorityRuntime {
  dir: string;
  config: AuthorityConfig;
  host: string;
  now: number;
  maxRequestAge: number;
  lifetime: number;
  publicKey(): Promise<PublicKey>;
  rootKey(): Promise<SigningKey>;
  bindingLog(): Promise<LogPointer[] | null>;
  commitments(override?: { logList?: string[]; skip?: boolean }): Promise<CommitmentChecker>;
  close(): void;
}

/** The authority's folder opened: config, lazily loaded root key (file or PKCS#11), CT checker. */
export async function openAuthority(dir: string, o: { now: number; passphrase?: string; pkcs11PinFile?: string }): Promise<AuthorityRuntime> {
  const config = await loadAuthorityConfig(dir);
  const ref = config.keys.root;
  const opened: Array<() => void> = [];
  let root: Promise<SigningKey> | null = null;
  const publicKey = async (): Promise<PublicKey> => {
    if (ref.public) {
      try {
        const { d: _d, ...pub } = JSON.parse(await readFile(folderPath(dir, ref.public), 'utf8')) as Record<string, unknown>;
        return parsePublicJwk(pub);
      } catch {
        throw new EmblemError('CONFIG_INVALID', `keys.root.public: cannot read a public JWK from ${ref.public}`);
      }
    }
    return (await rootKey()).publicKey;
  };
  const rootKey = (): Promise<SigningKey> =>
    (root ??= (async () => {
      if (ref.pkcs11) {
        const { openTokenKey, tokenPin } = await import('../org/token-key.js');
        const pin = await tokenPin(ref.pkcs11, { pinFile: o.pkcs11PinFile, resolvePath: (p) => folderPath(dir, p) });
        // The folder's public key pins which key in the token may sign (a relabelled key is refused).
        const expectedPublic = ref.public ? ((await publicKey()).jwk as JsonWebKey) : undefined;
        const key = await openTokenKey(ref.pkcs11, { field: 'keys.root', pin, ...(expectedPublic ? { expectedPublic } : {}) });
        opened.push(key.close);
        return key.signingKey;
      }
      return loadSigningKey(await readPrivateKeyFile(folderPath(dir, ref.file!), o.passphrase));
    })());
  return {
    dir,
    config,
    host: parseOrganizationIdentifier(config.authority).host,
    now: o.now,
    maxRequestAge: config.maxRequestAge ? durationSeconds(config.maxRequestAge, 'maxRequestAge') : AuthorityLimits.defaultMaxRequestAgeSeconds,
    lifetime: durationSeconds(config.lifetime ?? '365d', 'lifetime'),
    publicKey,
    rootKey,
    bindingLog: async () => {
      if (!config.binding?.log) return null;
      const { parseLogOption } = await import('../cli/log-option.js');
      return parseLogOption(await readFile(folderPath(dir, config.binding.log), 'utf8'));
    },
    commitments: async (override = {}) => {
      if (override.skip || config.verify?.skipCommitmentCheck) return skipCommitmentCheck;
      const { ctCheckerFromOptions } = await import('../cli/commitment-options.js');
      const lists = override.logList?.length ? override.logList : (config.ctLogLists ?? []).map((l) => (/^https?:/.test(l) ? l : folderPath(dir, l)));
      return ctCheckerFromOptions({ logList: lists, ...(config.verify?.caBundle ? { caBundle: folderPath(dir, config.verify.caBundle) } : {}) });
    },
    close: () => {
      for (const c of opened.splice(0)) c();
    },
  };
}
