import { EmblemError } from '../core/errors.js';
import { parsePublicJwk, type PublicKey } from '../core/tokens/keys.js';

/**
 * The trust store FILE format, as pure functions (no Node APIs): the CLI reads and writes files with it, and the
 * browser extension imports and exports the same JSON, so a store moves between them unchanged.
 */

export const TRUST_STORE_VERSION = 1;
/** Bounds a hostile store: a validator pins a handful of authorities, never thousands. */
export const MAX_KEYS = 4096;

export interface TrustedKeyEntry {
  name: string;
  /** JWS-era kid (RFC 7638 thumbprint). */
  kid: string;
  /** CWT-era kid (COSE_Key thumbprint), text form. */
  coseKid: string;
  jwk: Record<string, unknown>;
  added?: string;
  /** Folder stores: the file holding the key. */
  file?: string;
}

export function entryOf(key: PublicKey, name: string, extra: { added?: string; file?: string } = {}): TrustedKeyEntry {
  return { name, kid: key.jwsKid, coseKid: key.coseKidText, jwk: { ...key.jwk }, ...extra };
}

/** A key's name in a store: also a file name in folder stores, so a conservative character set. */
export function validName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._@()+:-]{0,127}$/.test(name)) {
    throw new EmblemError('USAGE', `trust store name ${JSON.stringify(name)}: 1-128 characters, letters, digits, space and . _ @ ( ) + : - (starting with a letter or digit)`);
  }
  return name;
}

/** Parses the JSON of a trust store file; `path` only names it in errors. Keys are re-derived, never trusted as given. */
export function parseTrustStoreText(text: string, path: string): TrustedKeyEntry[] {
  let doc: { version?: unknown; keys?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw new EmblemError('TRUST_STORE_INVALID', `${path} is not JSON (a trust store file is {"version": 1, "keys": [...]})`);
  }
  if (!doc || typeof doc !== 'object' || doc.version !== TRUST_STORE_VERSION || !Array.isArray(doc.keys)) {
    throw new EmblemError('TRUST_STORE_INVALID', `${path}: expected {"version": 1, "keys": [...]}`);
  }
  if (doc.keys.length > MAX_KEYS) throw new EmblemError('LIMIT_EXCEEDED', `${path}: more than ${MAX_KEYS} keys`);
  return doc.keys.map((raw, i) => {
    const e = raw as Partial<TrustedKeyEntry>;
    if (!e || typeof e !== 'object' || typeof e.name !== 'string' || !e.jwk || typeof e.jwk !== 'object') {
      throw new EmblemError('TRUST_STORE_INVALID', `${path}: keys[${i}] needs "name" and "jwk"`);
    }
    let key: PublicKey;
    try {
      const { d: _d, kid: _kid, ...pub } = e.jwk;
      key = parsePublicJwk(pub);
    } catch (err) {
      throw new EmblemError('TRUST_STORE_INVALID', `${path}: keys[${i}] (${e.name}): ${(err as Error).message}`);
    }
    if (e.kid !== undefined && e.kid !== key.jwsKid) throw new EmblemError('TRUST_STORE_INVALID', `${path}: keys[${i}] (${e.name}): kid ${e.kid} is not the key's thumbprint ${key.jwsKid}`);
    return entryOf(key, e.name, typeof e.added === 'string' ? { added: e.added } : {});
  });
}

/** The trust store file's text for these keys (the same bytes the CLI writes). */
export function serializeTrustStore(keys: TrustedKeyEntry[]): string {
  return `${JSON.stringify({ version: TRUST_STORE_VERSION, keys: keys.map(({ file: _f, ...k }) => k) }, null, 2)}\n`;
}

