import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { parseOrganizationIdentifier } from '../core/identifiers/organization.js';
import { generateSigningKey } from '../core/tokens/sign.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { writePrivateKeyFile } from '../store/key-file.js';
import { AUTHORITY_CONFIG_FILE, loadAuthorityConfig, saveAuthorityConfig, type AuthorityConfig } from './config.js';
import { Registry } from './registry.js';

export interface AuthorityInitOptions {
  dir: string;
  authority: string;
  ctLogLists?: string[] | undefined;
  caBundle?: string | undefined;
  lifetime: string;
  maxRequestAge: string;
  alg: 'ES256' | 'ES384' | 'ES512';
  passphrase?: string | undefined;
}

/** Creates the authority's folder: root key (JWE when a passphrase is set), config, empty registry. Never overwrites. */
export async function initAuthority(o: AuthorityInitOptions): Promise<{ kid: string; coseKid: string; bindingNames: string[]; encrypted: boolean }> {
  if (existsSync(join(o.dir, AUTHORITY_CONFIG_FILE))) throw new EmblemError('FILE_EXISTS', `${join(o.dir, AUTHORITY_CONFIG_FILE)} exists; init never overwrites a folder`);
  let host: string;
  let authority: string;
  try {
    const oi = parseOrganizationIdentifier(o.authority);
    host = oi.host;
    authority = oi.text;
  } catch (err) {
    throw new EmblemError('USAGE', `--authority: ${(err as Error).message}`);
  }
  await mkdir(join(o.dir, 'keys'), { recursive: true, mode: 0o700 });
  const root = await generateSigningKey(o.alg);
  const { encrypted } = await writePrivateKeyFile(join(o.dir, 'keys/root.jwk'), root.privateJwk, o.passphrase);
  await writeFileAtomic(join(o.dir, 'keys/root.pub.jwk'), `${JSON.stringify(root.key.publicKey.jwk)}\n`);
  const config: AuthorityConfig = {
    version: 1,
    authority,
    keys: { root: { file: 'keys/root.jwk', public: 'keys/root.pub.jwk' } },
    ...(o.ctLogLists?.length ? { ctLogLists: o.ctLogLists } : {}),
    ...(o.caBundle ? { verify: { caBundle: resolve(o.caBundle) } } : {}),
    lifetime: o.lifetime,
    maxRequestAge: o.maxRequestAge,
  };
  Registry.open(o.dir).close();
  await saveAuthorityConfig(o.dir, config);
  const kid = root.key.publicKey.jwsKid;
  const coseKid = root.key.publicKey.coseKidText;
  return { kid, coseKid, bindingNames: [host, `adem-configuration.${host}`, `${kid}.adem-configuration.${host}`, `${coseKid}.adem-configuration.${host}`], encrypted };
}

/** Stores the authority root key's binding chain and `log` entries (as org set-binding does for organisations). */
export async function setAuthorityBinding(dir: string, chainPath: string, logPath: string): Promise<{ entries: number }> {
  const config = await loadAuthorityConfig(dir);
  const { parseLogOption } = await import('../cli/log-option.js');
  const logText = /^\s*[[{]/.test(logPath) ? logPath : await readFile(logPath, 'utf8');
  const entries = parseLogOption(logText);
  await mkdir(join(dir, 'binding'), { recursive: true });
  await copyFile(chainPath, join(dir, 'binding/chain.pem'));
  await writeFileAtomic(join(dir, 'binding/log.json'), `${logText.trim()}\n`);
  config.binding = { chain: 'binding/chain.pem', log: 'binding/log.json' };
  await saveAuthorityConfig(dir, config);
  return { entries: entries.length };
}
