import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EmblemError } from '../core/errors.js';
import { Limits } from '../core/limits.js';
import type { Material } from '../core/material/material.js';
import { joinLegacyParts, joinTxtPresentation, parseAdemTxtValue, type AdemTxtValue } from '../core/material/txt.js';
import { classifyIhleItem } from './cbor-item.js';
import type { PublishableItem } from './emblem-records.js';

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;
const HEX = /^[0-9a-fA-F]+$/;
const ALG_FOR_CURVE: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA' };

function unrecognized(where: string, why: string): EmblemError {
  return new EmblemError('INPUT_UNRECOGNIZED', `${where}: ${why}`);
}

/** A public key in SPKI PEM (as the Go prototype and `interop/` ship them) -> JWK with the `alg` its curve implies. */
export function jwkFromPem(pem: string, where: string): Record<string, unknown> {
  if (/-----BEGIN (EC |RSA |ENCRYPTED )?PRIVATE KEY-----/.test(pem)) {
    throw unrecognized(where, 'refusing to read a private key for publication; pass the public key');
  }
  let jwk: Record<string, unknown>;
  try {
    jwk = createPublicKey(pem).export({ format: 'jwk' }) as Record<string, unknown>;
  } catch (err) {
    throw unrecognized(where, `unreadable PEM public key (${err instanceof Error ? err.message : String(err)})`);
  }
  const alg = ALG_FOR_CURVE[String(jwk.crv)];
  if (!alg) throw unrecognized(where, `unsupported key type ${String(jwk.kty)}/${String(jwk.crv)}`);
  return { alg, ...jwk };
}

function cborMaterial(bytes: Uint8Array, source: string): Material {
  return classifyIhleItem(bytes) === 'cwt' ? { kind: 'cwt', bytes, source } : { kind: 'cose-key', bytes, source };
}

/**
 * A CWT or COSE_Key written in hex behind a DNS-01 prefix (`adem-token=<hex>`, as `emblem sign --era cwt` prints
 * it): TXT records carry JWS and JWK JSON only, and a validator reads hex in `adem-token=` as a malformed JWS.
 * CBOR items belong in IHLE records (DNS-02), so that is where it is published. IHLE records have no identifiers,
 * so `adem-token-ID=<hex>` is refused rather than silently merged into the one IHLE set of its name.
 */
function cborFromTxtValue(v: AdemTxtValue, where: string, source: string): PublishableItem {
  const prefix = `adem-${v.type}${v.identifier === null ? '' : `-${v.identifier}`}=`;
  if (v.value.length % 2 !== 0) throw unrecognized(where, `${prefix} holds an odd number of hex digits`);
  const bytes = new Uint8Array(Buffer.from(v.value, 'hex'));
  let kind: 'cwt' | 'cose-key';
  try {
    kind = classifyIhleItem(bytes);
  } catch (err) {
    throw unrecognized(where, `${prefix} holds hex that is neither a JWS nor one CBOR item (${err instanceof Error ? err.message : String(err)})`);
  }
  const expected = v.type === 'token' ? 'cwt' : 'cose-key';
  if (kind !== expected) throw unrecognized(where, `${prefix} holds a ${kind === 'cwt' ? 'CWT token' : 'COSE_Key'}`);
  if (v.identifier !== null) {
    throw new EmblemError(
      'USAGE',
      `${where}: ${prefix} holds a CWT-era item, published in an IHLE record; IHLE records have no identifiers (DNS-02): drop "-${v.identifier}" or publish each set at its own name`,
    );
  }
  return { material: kind === 'cwt' ? { kind: 'cwt', bytes, source } : { kind: 'cose-key', bytes, source }, identifier: null };
}

function fromTxtValue(v: AdemTxtValue, where: string, source: string): PublishableItem {
  if (HEX.test(v.value)) return cborFromTxtValue(v, where, source);
  if (v.type === 'token') return { material: { kind: 'jws', text: v.value, source }, identifier: v.identifier };
  try {
    return { material: { kind: 'jwk', jwk: JSON.parse(v.value) as unknown, source }, identifier: v.identifier };
  } catch {
    throw unrecognized(where, 'adem-key value is not JSON');
  }
}

/**
 * Reads tokens and keys from one file, in every form this project and the prototypes write them:
 * JWS compact lines, `adem-...=` record values (bare or as dig prints them, quoted and split), JWK JSON (one
 * per line, a single object, or a JWK Set), SPKI PEM public keys, hex CBOR lines (CWT or COSE_Key, GO-CWT's
 * format) and raw binary CBOR.
 */
export async function readPublishableFile(path: string): Promise<PublishableItem[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new EmblemError('USAGE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parsePublishableText(bytes, path);
}

export function parsePublishableText(input: Buffer, path: string): PublishableItem[] {
  // A UTF-8 byte order mark (some editors write one) is text, not CBOR.
  const bytes = input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf ? input.subarray(3) : input;
  if (bytes.length > Limits.maxInputLines * 256) throw new EmblemError('LIMIT_EXCEEDED', `${path} is too large`);
  // Binary CBOR: a file that starts with a CBOR tag or map byte rather than text.
  if (bytes.length > 0 && (bytes[0]! >= 0xa0 || bytes.includes(0))) {
    return [{ material: cborMaterial(new Uint8Array(bytes), path), identifier: null }];
  }
  const text = bytes.toString('utf8');
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    return [{ material: { kind: 'jwk', jwk: jwkFromPem(trimmed, path), source: path }, identifier: null }];
  }
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      const keys = Array.isArray(parsed.keys) ? (parsed.keys as unknown[]) : [parsed];
      return keys.map((jwk) => ({ material: { kind: 'jwk', jwk, source: path } as Material, identifier: null }));
    } catch {
      // Not one JSON document: fall through to one item per line.
    }
  }
  const items: PublishableItem[] = [];
  const legacy: AdemTxtValue[] = [];
  const lines = text.split(/\r?\n/);
  if (lines.length > Limits.maxInputLines) throw new EmblemError('LIMIT_EXCEEDED', `${path} has too many lines`);
  lines.forEach((rawLine, index) => {
    const line = rawLine.trim();
    const where = `${path}:${index + 1}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    if (line.length > Limits.maxInputLineBytes) throw unrecognized(where, 'line too long');
    let value = line;
    if (line.startsWith('"')) {
      try {
        value = joinTxtPresentation(line);
      } catch (err) {
        throw unrecognized(where, err instanceof Error ? err.message : String(err));
      }
    }
    if (value.startsWith('adem')) {
      const v = parseAdemTxtValue(value);
      if (!v) throw unrecognized(where, 'not an ADEM record value');
      if (v.legacy) legacy.push(v);
      else items.push(fromTxtValue(v, where, path));
    } else if (JWS_COMPACT.test(value)) {
      items.push({ material: { kind: 'jws', text: value, source: path }, identifier: null });
    } else if (value.startsWith('{')) {
      try {
        items.push({ material: { kind: 'jwk', jwk: JSON.parse(value) as unknown, source: path }, identifier: null });
      } catch {
        throw unrecognized(where, 'invalid JSON');
      }
    } else if (HEX.test(value.replace(/\s+/g, ''))) {
      items.push({ material: cborMaterial(new Uint8Array(Buffer.from(value.replace(/\s+/g, ''), 'hex')), where), identifier: null });
    } else {
      throw unrecognized(where, 'not a JWS, JWK, ADEM TXT value or hex CBOR item');
    }
  });
  for (const v of joinLegacyParts(legacy)) items.push(fromTxtValue(v, path, path));
  return items;
}
