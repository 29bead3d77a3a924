import { lstat, readdir, readFile, unlink } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { decodeCbor } from '../core/tokens/cbor.js';
import { EmblemError } from '../core/errors.js';
import { parseCoseKey, parsePublicJwk, parsePublicKeyPem, type PublicKey } from '../core/tokens/keys.js';
import { writeFileAtomic, writeFileAtomicExclusive } from '../store/atomic-write.js';
import { entryOf, MAX_KEYS, parseTrustStoreText, serializeTrustStore, TRUST_STORE_VERSION, validName, type TrustedKeyEntry } from './store-format.js';

export { TRUST_STORE_VERSION, parseTrustStoreText, serializeTrustStore, validName, type TrustedKeyEntry };

/**
 * A validator's trust store: authority keys pinned out of band, each with a name. Two shapes:
 *  - a FILE: JSON {"version": 1, "keys": [{"name", "kid", "coseKid", "jwk", "added"?}]}, written atomically;
 *  - a FOLDER: one key per file (*.jwk / *.json: JWK, *.pem: SPKI PEM, *.cose / *.cbor: COSE_Key); the name is the
 *    file name without its extension.
 * Every key in a store acts exactly like one --trusted-key.
 */

const MAX_STORE_BYTES = 4 * 1024 * 1024;
const KEY_FILE_EXT = new Set(['.jwk', '.json', '.pem', '.cose', '.cbor']);

export interface TrustStore {
  path: string;
  kind: 'file' | 'folder';
  keys: TrustedKeyEntry[];
}

/** Parses one key file's bytes: a public JWK, an SPKI PEM, or a COSE_Key (CBOR). Private parts are dropped. */
export async function parseKeyBytes(bytes: Uint8Array, what: string): Promise<PublicKey> {
  const text = Buffer.from(bytes).toString('utf8').trim();
  try {
    if (text.includes('-----BEGIN PUBLIC KEY-----')) return await parsePublicKeyPem(text);
    if (text.startsWith('{')) {
      const { d: _d, kid: _kid, ...pub } = JSON.parse(text) as Record<string, unknown>;
      return parsePublicJwk(pub);
    }
    if (/^[0-9a-fA-F\s]+$/.test(text) && text.length > 0) return parseCoseKey(decodeCbor(Buffer.from(text.replace(/\s+/g, ''), 'hex'), 'COSE_Key'));
    return parseCoseKey(decodeCbor(bytes, 'COSE_Key'));
  } catch (err) {
    throw new EmblemError('KEY_INVALID', `${what}: not a public JWK, PEM public key or COSE_Key (${(err as Error).message})`);
  }
}

async function kindOf(path: string): Promise<'file' | 'folder' | 'absent'> {
  const info = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new EmblemError('TRUST_STORE_INVALID', `cannot read trust store ${path}: ${err.code ?? err.message}`);
  });
  if (!info) return 'absent';
  if (info.isDirectory()) return 'folder';
  if (info.isFile()) return 'file';
  if (info.isSymbolicLink()) {
    const { stat } = await import('node:fs/promises');
    const target = await stat(path).catch(() => null);
    if (target?.isDirectory()) return 'folder';
    if (target?.isFile()) return 'file';
  }
  throw new EmblemError('TRUST_STORE_INVALID', `trust store ${path} is neither a file nor a folder`);
}

async function readFolderStore(path: string): Promise<TrustedKeyEntry[]> {
  const names = (await readdir(path)).filter((n) => KEY_FILE_EXT.has(extname(n).toLowerCase()) && !n.startsWith('.')).sort();
  if (names.length > MAX_KEYS) throw new EmblemError('LIMIT_EXCEEDED', `${path}: more than ${MAX_KEYS} key files`);
  const out: TrustedKeyEntry[] = [];
  for (const n of names) {
    const file = join(path, n);
    const info = await lstat(file);
    if (!info.isFile()) continue;
    if (info.size > MAX_STORE_BYTES) throw new EmblemError('LIMIT_EXCEEDED', `${file} is larger than ${MAX_STORE_BYTES} bytes`);
    const key = await parseKeyBytes(await readFile(file), file);
    out.push(entryOf(key, basename(n, extname(n)), { file: n }));
  }
  return out;
}

/** Reads a trust store (file or folder). A missing store is an error unless `allowMissing` (then it is empty). */
export async function readTrustStore(path: string, options: { allowMissing?: boolean } = {}): Promise<TrustStore> {
  const kind = await kindOf(path);
  if (kind === 'absent') {
    if (options.allowMissing) return { path, kind: 'file', keys: [] };
    throw new EmblemError('TRUST_STORE_MISSING', `trust store ${path} does not exist (create it with emblem trust add --store ${path} --name NAME KEYFILE)`);
  }
  if (kind === 'folder') return { path, kind, keys: await readFolderStore(path) };
  const info = await lstat(path);
  if (info.size > MAX_STORE_BYTES) throw new EmblemError('LIMIT_EXCEEDED', `${path} is larger than ${MAX_STORE_BYTES} bytes`);
  return { path, kind, keys: parseTrustStoreText(await readFile(path, 'utf8'), path) };
}

/**
 * Pins a key. Refuses (TRUST_KEY_EXISTS / TRUST_NAME_EXISTS) a key already pinned or a name already used: nothing
 * is ever replaced silently (remove first). A file store is rewritten atomically; a folder gets a new file, created
 * exclusively.
 */
export async function addTrustedKey(path: string, key: PublicKey, name: string, added?: Date): Promise<TrustedKeyEntry> {
  validName(name);
  const store = await readTrustStore(path, { allowMissing: true });
  const same = store.keys.find((k) => k.kid === key.jwsKid);
  if (same) throw new EmblemError('TRUST_KEY_EXISTS', `${path} already pins this key (kid ${key.jwsKid}) as ${JSON.stringify(same.name)}: nothing changed`);
  const named = store.keys.find((k) => k.name === name);
  if (named) throw new EmblemError('TRUST_NAME_EXISTS', `${path} already has a key named ${JSON.stringify(name)} (kid ${named.kid}): choose another name, or remove that key first`);
  const entry = entryOf(key, name, added ? { added: added.toISOString() } : {});
  if (store.kind === 'folder') {
    const file = `${name}.jwk`;
    try {
      await writeFileAtomicExclusive(join(path, file), `${JSON.stringify(key.jwk)}\n`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new EmblemError('TRUST_NAME_EXISTS', `${join(path, file)} exists: not overwriting it`);
      throw err;
    }
    return { ...entry, file };
  }
  const text = serializeTrustStore([...store.keys, entry]);
  if (store.keys.length === 0 && (await kindOf(path)) === 'absent') {
    try {
      await writeFileAtomicExclusive(path, text);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new EmblemError('TRUST_STORE_CHANGED', `${path} appeared while adding: run the command again`);
      throw err;
    }
  } else {
    await writeFileAtomic(path, text);
  }
  return entry;
}

/** Unpins the key with this kid (JWS or COSE form) or name. Throws TRUST_KEY_NOT_FOUND if none matches. */
export async function removeTrustedKey(path: string, kidOrName: string): Promise<TrustedKeyEntry> {
  const store = await readTrustStore(path);
  const matches = store.keys.filter((k) => k.kid === kidOrName || k.coseKid === kidOrName || k.name === kidOrName);
  if (matches.length === 0) throw new EmblemError('TRUST_KEY_NOT_FOUND', `${path} pins no key with kid or name ${JSON.stringify(kidOrName)}`);
  if (matches.length > 1) throw new EmblemError('TRUST_KEY_AMBIGUOUS', `${JSON.stringify(kidOrName)} matches ${matches.length} keys in ${path}: give the kid`);
  const gone = matches[0]!;
  if (store.kind === 'folder') await unlink(join(path, gone.file!));
  else await writeFileAtomic(path, serializeTrustStore(store.keys.filter((k) => k !== gone)));
  return gone;
}

/** The keys of several stores, as public keys for the validator (the same as one --trusted-key each). */
export async function trustStoreKeys(paths: readonly string[]): Promise<PublicKey[]> {
  const out: PublicKey[] = [];
  for (const p of paths) for (const e of (await readTrustStore(p)).keys) out.push(parsePublicJwk(e.jwk));
  return out;
}
