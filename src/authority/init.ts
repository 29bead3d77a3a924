import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { parseOrganizationIdentifier } from '../core/identifiers/organization.js';
import type { PublicKey } from '../core/tokens/keys.js';
import { generateSigningKey } from '../core/tokens/sign.js';
import type { ChannelConfig, KeyRef } from '../org/config.js';
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
  /** Generate the root key in a PKCS#11 token instead (as org init --pkcs11-…). */
  pkcs11?: import('../org/init.js').InitPkcs11 | undefined;
  /** Channels to the authority's own zone (authority publish), as org init --publish / --tsig-key. */
  publish?: string[] | undefined;
  tsigKey?: string | undefined;
}

/** `--publish URL… [--tsig-key FILE]` as the config's channels (the org config's shape; the key path made absolute). */
export function channelsOf(publish: string[], tsigKey: string | undefined): ChannelConfig[] {
  return publish.map((url) => {
    if (!/^(rfc2136:\/\/|zonefile:|octodns:)/.test(url)) throw new EmblemError('USAGE', `--publish ${url}: expected rfc2136://HOST:PORT/ZONE, zonefile:PATH or octodns:PATH`);
    const c: ChannelConfig = { url };
    if (url.startsWith('rfc2136://') && tsigKey) c.tsigKey = resolve(tsigKey);
    return c;
  });
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
  let rootRef: KeyRef;
  let publicKey: PublicKey;
  let encrypted = false;
  let discard = () => {};
  let closeToken = () => {};
  if (o.pkcs11) {
    if (o.alg !== 'ES256' && o.alg !== 'ES512') throw new EmblemError('USAGE', `--alg ${o.alg}: PKCS#11 root keys are ES256 or ES512`);
    const { createTokenKey } = await import('../org/token-key.js');
    const label = o.pkcs11.label ?? `emblem-authority-${host}`.slice(0, 128);
    const created = await createTokenKey({ module: o.pkcs11.module, token: o.pkcs11.token, label, alg: o.alg, pin: o.pkcs11.pin });
    discard = created.discard;
    closeToken = created.close;
    publicKey = created.signingKey.publicKey;
    rootRef = { pkcs11: { module: resolve(o.pkcs11.module), token: o.pkcs11.token, label, alg: o.alg, id: created.id, ...(o.pkcs11.pinFile ? { pinFile: resolve(o.pkcs11.pinFile) } : {}) }, public: 'keys/root.pub.jwk' };
    encrypted = true;
  } else {
    const root = await generateSigningKey(o.alg);
    encrypted = (await writePrivateKeyFile(join(o.dir, 'keys/root.jwk'), root.privateJwk, o.passphrase)).encrypted;
    publicKey = root.key.publicKey;
    rootRef = { file: 'keys/root.jwk', public: 'keys/root.pub.jwk' };
  }
  try {
    await writeFileAtomic(join(o.dir, 'keys/root.pub.jwk'), `${JSON.stringify(publicKey.jwk)}\n`);
    const config: AuthorityConfig = {
      version: 1,
      authority,
      keys: { root: rootRef },
      ...(o.ctLogLists?.length ? { ctLogLists: o.ctLogLists } : {}),
      ...(o.caBundle ? { verify: { caBundle: resolve(o.caBundle) } } : {}),
      lifetime: o.lifetime,
      maxRequestAge: o.maxRequestAge,
      ...(o.publish?.length ? { channels: channelsOf(o.publish, o.tsigKey) } : {}),
    };
    Registry.open(o.dir).close();
    await saveAuthorityConfig(o.dir, config);
  } catch (err) {
    // No config was written, so nobody can use a token key made here: take it out again.
    discard();
    throw err;
  } finally {
    closeToken();
  }
  const kid = publicKey.jwsKid;
  const coseKid = publicKey.coseKidText;
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
