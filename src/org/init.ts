import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { generateSigningKey, type SigningKey } from '../core/tokens/sign.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { writePrivateKeyFile } from '../store/key-file.js';
import { CONFIG_FILE, loadConfig, parseConfig, saveConfig, settings, type ChannelConfig, type OrgConfig } from './config.js';

export interface InitOptions {
  dir: string;
  organization: string;
  assets: string[];
  publish: string[];
  tsigKey?: string | undefined;
  reloadCommand?: string | undefined;
  servers?: string[] | undefined;
  ctLogLists?: string[] | undefined;
  caBundle?: string | undefined;
  lifetime: string;
  renewBefore?: string | undefined;
  era: 'jws' | 'cwt' | 'both';
  ttl: number;
  alg: 'ES256' | 'ES384' | 'ES512';
  passphrase?: string | undefined;
  /** Keep the root key in a PKCS#11 token instead of keys/root.jwk (the emblem key stays a file). */
  pkcs11?: InitPkcs11 | undefined;
}

export interface InitPkcs11 {
  module: string;
  token: string;
  /** CKA_LABEL of the new key pair; default emblem-root-<host>. */
  label?: string | undefined;
  /** The user PIN, read by the caller from --pkcs11-pin-file or $EMBLEM_PKCS11_PIN; never written anywhere. */
  pin: string;
  /** Recorded in the config (the path, not the PIN) so that apply/run read the PIN from the same file. */
  pinFile?: string | undefined;
}

/** Where init put the root key: a file in the folder, or a PKCS#11 token (by reference). */
export type RootKeyPlace = { kind: 'file'; file: string } | { kind: 'pkcs11'; module: string; token: string; label: string; id: string; alg: 'ES256' | 'ES512' };

/** Creates the folder; refuses to touch an existing configuration (never destroys keys or state). */
export async function initFolder(o: InitOptions): Promise<{ rootKid: string; emblemKid: string; bindingNames: string[]; encrypted: boolean; rootKey: RootKeyPlace }> {
  if (existsSync(join(o.dir, CONFIG_FILE))) throw new EmblemError('USAGE', `${join(o.dir, CONFIG_FILE)} exists; init never overwrites a folder`);
  const channels: ChannelConfig[] = o.publish.map((url) => {
    const c: ChannelConfig = { url };
    if (url.startsWith('rfc2136://') && o.tsigKey) c.tsigKey = resolve(o.tsigKey);
    if (url.startsWith('zonefile:')) {
      const p = url.slice('zonefile:'.length);
      c.url = `zonefile:${isAbsolute(p) ? p : resolve(p)}`;
      if (o.reloadCommand) c.reloadCommand = o.reloadCommand;
      if (o.servers?.length) c.servers = o.servers;
    }
    if (url.startsWith('octodns:')) {
      const p = url.slice('octodns:'.length);
      c.url = `octodns:${isAbsolute(p) ? p : resolve(p)}`;
    }
    return c;
  });
  const config: OrgConfig = {
    version: 1,
    organization: o.organization,
    assets: o.assets,
    lifetime: o.lifetime,
    ...(o.renewBefore ? { renewBefore: o.renewBefore } : {}),
    era: o.era,
    ttl: o.ttl,
    keys: {
      root: o.pkcs11
        ? {
            pkcs11: {
              module: resolve(o.pkcs11.module),
              token: o.pkcs11.token,
              label: o.pkcs11.label ?? `emblem-root-${o.organization.replace(/^https:\/\//, '')}`.slice(0, 128),
              alg: pkcs11Alg(o.alg),
              ...(o.pkcs11.pinFile ? { pinFile: resolve(o.pkcs11.pinFile) } : {}),
            },
            public: 'keys/root.pub.jwk',
          }
        : { file: 'keys/root.jwk', public: 'keys/root.pub.jwk' },
      emblem: { file: 'keys/emblem.jwk', public: 'keys/emblem.pub.jwk' },
    },
    channels,
    ...(o.ctLogLists?.length ? { ctLogLists: o.ctLogLists } : {}),
    ...(o.caBundle ? { verify: { caBundle: resolve(o.caBundle) } } : {}),
  };
  // Validate before writing anything: a bad flag leaves no half-made folder.
  const YAML = await import('yaml');
  await parseConfig(YAML.stringify(config), '--flags');
  settings(config);
  const tokenRef = config.keys.root.pkcs11;
  // The token comes first: a wrong PIN, an unknown token or a taken label fails before anything is written.
  let rootKey: SigningKey;
  let place: RootKeyPlace;
  let discard = () => {};
  let closeToken = () => {};
  if (tokenRef && o.pkcs11) {
    const { createTokenKey } = await import('./token-key.js');
    const created = await createTokenKey({ module: tokenRef.module, token: tokenRef.token, label: tokenRef.label, alg: tokenRef.alg, pin: o.pkcs11.pin });
    tokenRef.id = created.id;
    rootKey = created.signingKey;
    discard = created.discard;
    closeToken = created.close;
    place = { kind: 'pkcs11', module: tokenRef.module, token: tokenRef.token, label: tokenRef.label, id: created.id, alg: tokenRef.alg };
  }
  try {
    await mkdir(join(o.dir, 'keys'), { recursive: true, mode: 0o700 });
    let encrypted = o.passphrase !== undefined;
    if (!tokenRef) {
      const root = await generateSigningKey(o.alg);
      encrypted = (await writePrivateKeyFile(join(o.dir, 'keys/root.jwk'), root.privateJwk, o.passphrase)).encrypted;
      rootKey = root.key;
      place = { kind: 'file', file: 'keys/root.jwk' };
    }
    const emblem = await generateSigningKey(o.alg);
    encrypted = (await writePrivateKeyFile(join(o.dir, 'keys/emblem.jwk'), emblem.privateJwk, o.passphrase)).encrypted && encrypted;
    await writeFileAtomic(join(o.dir, 'keys/root.pub.jwk'), `${JSON.stringify(rootKey!.publicKey.jwk)}\n`);
    await writeFileAtomic(join(o.dir, 'keys/emblem.pub.jwk'), `${JSON.stringify(emblem.key.publicKey.jwk)}\n`);
    await saveConfig(o.dir, config);
    const host = settings(config).host;
    const kid = rootKey!.publicKey.jwsKid;
    const cwtKid = rootKey!.publicKey.coseKidText;
    return {
      rootKid: kid,
      emblemKid: emblem.key.publicKey.jwsKid,
      bindingNames: [host, `adem-configuration.${host}`, `${kid}.adem-configuration.${host}`, ...(config.era !== 'jws' ? [`${cwtKid}.adem-configuration.${host}`] : [])],
      encrypted,
      rootKey: place!,
    };
  } catch (err) {
    // The folder has no config, so nobody can use the token key just made: take it out again.
    discard();
    throw err;
  } finally {
    closeToken();
  }
}

function pkcs11Alg(alg: InitOptions['alg']): 'ES256' | 'ES512' {
  if (alg === 'ES256' || alg === 'ES512') return alg;
  throw new EmblemError('USAGE', `--alg ${alg}: PKCS#11 root keys are ES256 (P-256) or ES512 (P-521)`);
}

/**
 * Emblem-key rotation: a new emblem key becomes `keys.emblem`, the old one `keys.previousEmblem`. The next apply
 * (or run) re-signs every asset with the new key; the new sets are published next to the old ones and the old
 * records are retired only once the new ones verified, so validators never see a gap.
 */
export async function rotateEmblemKey(dir: string, passphrase: string | undefined, now: number): Promise<{ kid: string; previousKid: string | null }> {
  const config = await loadConfig(dir);
  const alg = 'ES256';
  const fresh = await generateSigningKey(alg);
  const stamp = new Date(now * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const file = `keys/emblem-${stamp}.jwk`;
  const pub = `keys/emblem-${stamp}.pub.jwk`;
  if (existsSync(join(dir, file))) throw new EmblemError('USAGE', `${file} exists; rotate again later`);
  await writePrivateKeyFile(join(dir, file), fresh.privateJwk, passphrase);
  await writeFileAtomic(join(dir, pub), `${JSON.stringify(fresh.key.publicKey.jwk)}\n`);
  let previousKid: string | null = null;
  if (config.keys.emblem.public) {
    try {
      previousKid = (await import('../core/tokens/keys.js')).parsePublicJwk(JSON.parse(await readFile(join(dir, config.keys.emblem.public), 'utf8'))).jwsKid;
    } catch {
      previousKid = null;
    }
  }
  config.keys.previousEmblem = config.keys.emblem;
  config.keys.emblem = { file, public: pub };
  await saveConfig(dir, config);
  return { kid: fresh.key.publicKey.jwsKid, previousKid };
}

/** Stores a binding certificate chain and its `log` entries in the folder and points the config at them. */
export async function setBinding(dir: string, chainPath: string, log: string): Promise<{ names: string[]; entries: number }> {
  const config = await loadConfig(dir);
  const { parsePemCertificates } = await import('../ct/certificate.js');
  const { parseLogOption } = await import('../cli/log-option.js');
  const chainText = await readFile(chainPath, 'utf8').catch(() => {
    throw new EmblemError('USAGE', `cannot read --chain ${chainPath}`);
  });
  const certs = parsePemCertificates(chainText);
  if (certs.length === 0) throw new EmblemError('USAGE', `--chain ${chainPath}: no PEM certificate`);
  const logText = /^\s*[[{]/.test(log) ? log : await readFile(log, 'utf8');
  const entries = parseLogOption(logText);
  const pkijs = await import('pkijs');
  const leaf = pkijs.Certificate.fromBER(new Uint8Array(certs[0]!));
  const names: string[] = [];
  for (const ext of leaf.extensions ?? []) {
    if (ext.extnID !== '2.5.29.17') continue;
    for (const n of (ext.parsedValue as { altNames: Array<{ type: number; value: string }> }).altNames) if (n.type === 2) names.push(n.value);
  }
  await mkdir(join(dir, 'binding'), { recursive: true });
  await copyFile(chainPath, join(dir, 'binding/chain.pem'));
  await writeFileAtomic(join(dir, 'binding/log.json'), `${logText.trim()}\n`);
  config.binding = { chain: 'binding/chain.pem', log: 'binding/log.json' };
  await saveConfig(dir, config);
  return { names, entries: entries.length };
}
