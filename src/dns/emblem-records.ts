import { decode as decodeCbor } from 'cborg';
import { EmblemError } from '../core/errors.js';
import { encodeCbor } from '../core/tokens/cbor.js';
import { coseKeyMap, parsePublicJwk } from '../core/tokens/keys.js';
import type { Material } from '../core/material/material.js';
import { classifyIhleItem } from './cbor-item.js';
import { txtRdata } from './character-strings.js';
import type { NameKey } from './domain-name.js';
import { DEFAULT_IHLE_TYPE, RRType } from './rr-type.js';
import type { ZoneRecord } from './zone-file.js';

/** A token or key to publish, with the DNS-01 identifier that groups it into a token set (null = every set). */
export interface PublishableItem {
  material: Material;
  identifier: string | null;
}

export type PublishEra = 'jws' | 'cwt' | 'both';

const IDENTIFIER = /^[\x21-\x2c\x2e-\x7e]+$/; // DNS-01: printable ASCII except "-"

/** JWK members that only private keys carry (RFC 7518 §6); a key with any of them is never published. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export function assertIdentifier(id: string): void {
  if (!IDENTIFIER.test(id)) {
    throw new EmblemError('USAGE', `identifier ${JSON.stringify(id)} must be printable ASCII without "-" (DNS-01)`);
  }
}

/** The compact JWK JSON published in `adem-key=`: public members only, no `kid` (CORE-01: JWKs MUST NOT carry kid). */
export function publishableJwkJson(jwk: unknown): string {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new EmblemError('KEY_INVALID', 'JWK is not an object');
  const obj = jwk as Record<string, unknown>;
  for (const m of PRIVATE_JWK_MEMBERS) {
    if (m in obj) throw new EmblemError('KEY_INVALID', 'refusing to publish a private key (JWK has private members)');
  }
  if (typeof obj.alg !== 'string') throw new EmblemError('KEY_INVALID', 'JWK has no "alg"; ADEM keys must name their algorithm');
  const { kid: _kid, ...rest } = obj;
  // Sorted members, like the deployed records (FIX): stable output for the same key.
  return JSON.stringify(Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** DNS-01 TXT value (before splitting into character-strings) for a JWS token or JWK. */
export function emblemTxtValue(item: PublishableItem): string {
  const suffix = item.identifier === null ? '' : `-${item.identifier}`;
  if (item.identifier !== null) assertIdentifier(item.identifier);
  const m = item.material;
  if (m.kind === 'jws') return `adem-token${suffix}=${m.text}`;
  if (m.kind === 'jwk') return `adem-key${suffix}=${publishableJwkJson(m.jwk)}`;
  throw new EmblemError('USAGE', `${m.kind} material belongs in IHLE records, not TXT`);
}

/** DNS-02 IHLE RDATA: the CBOR item itself, checked to be exactly one item and not a private COSE_Key. */
export function emblemIhleRdata(material: Material): Buffer {
  if (material.kind !== 'cwt' && material.kind !== 'cose-key') {
    throw new EmblemError('USAGE', `${material.kind} material belongs in TXT records, not IHLE`);
  }
  const bytes = Buffer.from(material.bytes);
  const kind = classifyIhleItem(bytes);
  if (kind === 'cose-key') {
    const map = decodeCbor(bytes, { useMaps: true }) as unknown;
    // COSE_Key label -4 is the private scalar d (RFC 9053 §7.1).
    if (map instanceof Map && map.has(-4)) throw new EmblemError('KEY_INVALID', 'refusing to publish a private COSE_Key (label -4)');
  }
  if (bytes.length > 65_535) throw new EmblemError('LIMIT_EXCEEDED', 'IHLE RDATA above 65535 bytes');
  return bytes;
}

export function itemEra(m: Material): 'jws' | 'cwt' {
  return m.kind === 'jws' || m.kind === 'jwk' || m.kind === 'spki-pem' ? 'jws' : 'cwt';
}

/** The COSE_Key (CORE-02) for a JWK, so one key file can be published in both eras. */
export function coseKeyFromJwk(jwk: unknown): Buffer {
  publishableJwkJson(jwk); // same refusals (private members, no alg) as for TXT
  return Buffer.from(encodeCbor(coseKeyMap(parsePublicJwk(jwk))));
}

/**
 * Emblem records at `owner` for the selected era(s): TXT (DNS-01) for JWS tokens and JWKs, IHLE (DNS-02) for
 * CWTs and COSE_Keys. Items of the other era are returned in `skipped` so the caller can say so.
 */
export function emblemRecords(
  items: PublishableItem[],
  owner: NameKey,
  options: { era?: PublishEra; ttl?: number; ihleType?: number } = {},
): { records: ZoneRecord[]; skipped: PublishableItem[] } {
  const era = options.era ?? 'both';
  const ttl = options.ttl ?? 3600;
  const ihleType = options.ihleType ?? DEFAULT_IHLE_TYPE;
  const records: ZoneRecord[] = [];
  const skipped: PublishableItem[] = [];
  const seen = new Set<string>();
  // A JWK is also published as a COSE_Key when CWT tokens are published next to it (or --era cwt is asked).
  const cwtKeys = era === 'cwt' || (era === 'both' && items.some((i) => i.material.kind === 'cwt'));
  const push = (record: ZoneRecord) => {
    // Duplicate RRs in an RRset are not allowed (RFC 2181 §5): publish each token once.
    const key = `${record.type}:${record.rdata.toString('hex')}`;
    if (seen.has(key)) return;
    seen.add(key);
    records.push(record);
  };
  for (const item of items) {
    const e = itemEra(item.material);
    if (item.material.kind === 'jwk' && cwtKeys) push({ owner, ttl, type: ihleType, rdata: coseKeyFromJwk(item.material.jwk) });
    if (era !== 'both' && era !== e) {
      if (!(item.material.kind === 'jwk' && cwtKeys)) skipped.push(item);
      continue;
    }
    if (e === 'jws') push({ owner, ttl, type: RRType.TXT, rdata: txtRdata(Buffer.from(emblemTxtValue(item), 'utf8')) });
    else push({ owner, ttl, type: ihleType, rdata: emblemIhleRdata(item.material) });
  }
  return { records, skipped };
}
