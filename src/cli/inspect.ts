import { decodeCbor as coreDecode, Tagged } from '../core/tokens/cbor.js';
import { reportError, type ReportedError } from '../core/errors.js';
import { base64urlDecode, hexEncode, utf8Decode } from '../core/encoding.js';
import { parsePublicJwk } from '../core/tokens/keys.js';
import type { Material } from '../core/material/material.js';
import { materialFromText } from './commands/verify.js';

/** One decoded item: nothing here is verified. */
export interface InspectedItem {
  kind: 'jws' | 'cwt' | 'jwk' | 'cose-key' | 'spki-pem';
  /** The item as it came in (JWS compact text, CWT/COSE_Key hex, JWK object): feeding it back gives the same item. */
  token: unknown;
  type?: 'emblem' | 'endorsement' | 'unknown';
  header?: Record<string, unknown>;
  kid?: string | null;
  claims?: Record<string, unknown>;
  validity?: { notBefore: string | null; expires: string | null; at: string; state: 'valid' | 'not-yet-valid' | 'expired' | 'unknown'; remainingSeconds: number | null };
  constraints?: Record<string, unknown> | null;
  log?: unknown[] | null;
  keyIds?: { jws: string; cwt: string } | null;
  errors: ReportedError[];
}

export interface Inspection {
  source: string;
  at: string;
  items: InspectedItem[];
  errors: ReportedError[];
}

const CWT_CLAIM_NAMES: Record<string, string> = { '1': 'iss', '2': 'sub', '3': 'aud', '4': 'exp', '5': 'nbf', '6': 'iat', '7': 'cti' };
const COSE_HEADER_NAMES: Record<string, string> = { '1': 'alg', '2': 'crit', '3': 'content type', '4': 'kid', '16': 'typ' };

/** CBOR values as JSON: maps to objects (labels as strings, named where known), byte strings as {"hex": ...}. */
function cborJson(v: unknown, names: Record<string, string> = {}): unknown {
  if (v instanceof Uint8Array) return { hex: hexEncode(v) };
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, val] of v) {
      const key = String(k);
      o[names[key] ? `${names[key]} (${key})` : key] = cborJson(val);
    }
    return o;
  }
  if (Array.isArray(v)) return v.map((x) => cborJson(x));
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Tagged) return { tag: v.tag, value: cborJson(v.value) };
  return v;
}

function validity(nbf: unknown, exp: unknown, now: number): InspectedItem['validity'] {
  const n = typeof nbf === 'number' ? nbf : null;
  const e = typeof exp === 'number' ? exp : null;
  const state = e === null && n === null ? 'unknown' : n !== null && now < n ? 'not-yet-valid' : e !== null && now >= e ? 'expired' : 'valid';
  return {
    notBefore: n === null ? null : new Date(n * 1000).toISOString(),
    expires: e === null ? null : new Date(e * 1000).toISOString(),
    at: new Date(now * 1000).toISOString(),
    state,
    remainingSeconds: e === null ? null : e - now,
  };
}

function inspectJws(text: string, now: number): InspectedItem {
  const item: InspectedItem = { kind: 'jws', token: text, errors: [] };
  try {
    const [h, p] = text.split('.');
    const header = JSON.parse(utf8Decode(base64urlDecode(h!))) as Record<string, unknown>;
    const claims = JSON.parse(utf8Decode(base64urlDecode(p!))) as Record<string, unknown>;
    item.header = header;
    item.kid = typeof header.kid === 'string' ? header.kid : null;
    item.claims = claims;
    item.type = header.cty === 'adem-emb' ? 'emblem' : header.cty === 'adem-end' ? 'endorsement' : 'unknown';
    item.validity = validity(claims.nbf, claims.exp, now);
    item.constraints = item.type === 'endorsement' ? ((claims.emb as Record<string, unknown>) ?? null) : null;
    item.log = Array.isArray(claims.log) ? claims.log : null;
  } catch (err) {
    item.errors.push({ code: 'TOKEN_MALFORMED', message: `cannot decode: ${(err as Error).message}` });
  }
  return item;
}

const decodeCbor = (bytes: Uint8Array, _opts?: unknown): unknown => coreDecode(bytes, 'CBOR item');

function inspectCwt(bytes: Uint8Array, now: number): InspectedItem {
  const item: InspectedItem = { kind: 'cwt', token: hexEncode(bytes), errors: [] };
  try {
    let v = decodeCbor(bytes);
    if (v instanceof Tagged && v.tag === 61) v = v.value;
    if (!(v instanceof Tagged) || v.tag !== 18 || !Array.isArray(v.value)) throw new Error('not a COSE_Sign1 (tag 18)');
    const [prot, , payload] = v.value as [Uint8Array, unknown, Uint8Array];
    const header = decodeCbor(prot, { useMaps: true }) as Map<unknown, unknown>;
    const claims = decodeCbor(payload, { useMaps: true }) as Map<unknown, unknown>;
    item.header = cborJson(header, COSE_HEADER_NAMES) as Record<string, unknown>;
    const kid = header.get(4);
    item.kid = kid instanceof Uint8Array ? hexEncode(kid) : null;
    item.claims = cborJson(claims, CWT_CLAIM_NAMES) as Record<string, unknown>;
    const log = header.get('log');
    item.log = Array.isArray(log) ? (cborJson(log) as unknown[]) : null;
    const labels = new Set([...claims.keys()].map(String));
    item.type = labels.has('key') || labels.has('end') || header.has('log') ? 'endorsement' : labels.has('assets') ? 'emblem' : 'unknown';
    item.validity = validity(claims.get(5), claims.get(4), now);
    item.constraints = null;
  } catch (err) {
    item.errors.push({ code: 'TOKEN_MALFORMED', message: `cannot decode: ${(err as Error).message}` });
  }
  return item;
}

/** Decodes every token and key in `text` (any format `emblem verify` reads). */
export function inspectText(text: string, source: string, now: number): Inspection {
  const parsed = materialFromText(text, source);
  return inspectMaterial(parsed.material, parsed.errors, source, now);
}

/** Decodes material already read (from a file, or from the DNS by `inspect --name`); duplicates are shown once. */
export function inspectMaterial(material: Material[], errors: ReportedError[], source: string, now: number): Inspection {
  const items: InspectedItem[] = [];
  const seen = new Set<string>();
  for (const m of material) {
    const key = m.kind === 'jws' ? m.text : m.kind === 'cwt' || m.kind === 'cose-key' ? hexEncode(m.bytes) : m.kind === 'jwk' ? JSON.stringify(m.jwk) : m.pem;
    if (seen.has(`${m.kind}:${key}`)) continue;
    seen.add(`${m.kind}:${key}`);
    if (m.kind === 'jws') items.push(inspectJws(m.text, now));
    else if (m.kind === 'cwt') items.push(inspectCwt(m.bytes, now));
    else if (m.kind === 'jwk') {
      const item: InspectedItem = { kind: 'jwk', token: m.jwk, errors: [] };
      try {
        const key = parsePublicJwk(m.jwk);
        item.keyIds = { jws: key.jwsKid, cwt: key.coseKidText };
      } catch (err) {
        item.errors.push(reportError(err));
      }
      items.push(item);
    } else if (m.kind === 'cose-key') items.push({ kind: 'cose-key', token: hexEncode(m.bytes), claims: cborJson(decodeCbor(m.bytes, { useMaps: true })) as Record<string, unknown>, errors: [] });
    else items.push({ kind: 'spki-pem', token: m.pem, errors: [] });
  }
  return { source, at: new Date(now * 1000).toISOString(), items, errors };
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function when(v: unknown): string {
  return typeof v === 'number' ? `${v} (${new Date(v * 1000).toISOString()})` : show(v);
}

export function formatInspection(r: Inspection): string {
  const lines = [`${r.source}: ${r.items.length} item(s), described as of ${r.at}. Nothing here is verified.`];
  for (const e of r.errors) lines.push(`  input: ${e.code}: ${e.message}`);
  r.items.forEach((it, i) => {
    lines.push('', `#${i + 1} ${it.kind.toUpperCase()}${it.type ? ` ${it.type}` : ''}`);
    if (it.header) {
      lines.push('  header:');
      for (const [k, v] of Object.entries(it.header)) lines.push(`    ${k}: ${show(v)}`);
    }
    if (it.kid !== undefined) lines.push(`  kid: ${it.kid ?? '(none)'}`);
    if (it.claims) {
      lines.push('  claims:');
      for (const [k, v] of Object.entries(it.claims)) lines.push(`    ${k}: ${/^(iat|nbf|exp)\b/.test(k) ? when(v) : show(v)}`);
    }
    if (it.validity) {
      const v = it.validity;
      const rel = v.remainingSeconds === null ? '' : v.remainingSeconds >= 0 ? `, ${Math.floor(v.remainingSeconds / 3600)} h left` : `, expired ${Math.floor(-v.remainingSeconds / 3600)} h ago`;
      lines.push(`  validity: ${v.notBefore ?? '-'} .. ${v.expires ?? '-'}: ${v.state} at ${v.at}${rel}`);
    }
    if (it.constraints) lines.push(`  constraints: ${JSON.stringify(it.constraints)}`);
    if (it.log) for (const e of it.log) lines.push(`  log entry: ${JSON.stringify(e)}`);
    if (it.keyIds) lines.push(`  key: ${JSON.stringify(it.token)}`, `  kid (JWS era): ${it.keyIds.jws}`, `  kid (CWT era): ${it.keyIds.cwt}`);
    if (it.kind === 'cose-key' && it.claims) lines.push(`  COSE_Key: ${JSON.stringify(it.claims)}`);
    for (const e of it.errors) lines.push(`  ${e.code}: ${e.message}`);
  });
  return `${lines.join('\n')}\n`;
}

