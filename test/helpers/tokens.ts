/**
 * Builders for hostile-input and property tests: well-formed tokens from the core's own signer, and hand-crafted
 * malformed ones (base64url JSON for JWS, cborg for CWT) signed properly with WebCrypto, so that each crafted token
 * carries exactly the one defect a test is about.
 */
import assert from 'node:assert/strict';
import { encode, Tagged } from 'cborg';
import { base64urlEncode, hexEncode, utf8Encode } from '../../src/core/encoding.js';
import type { ReportedError } from '../../src/core/errors.js';
import type { Material } from '../../src/core/material/material.js';
import { ALGORITHMS, type SignatureAlgorithm } from '../../src/core/tokens/algorithms.js';
import { sign1SigningInput } from '../../src/core/tokens/cwt.js';
import {
  generateSigningKey,
  signCwt,
  signJws,
  type EmblemSpec,
  type EndorsementSpec,
  type SigningKey,
} from '../../src/core/tokens/sign.js';
import { skipCommitmentCheck, type LogPointer } from '../../src/core/verify/commitment.js';
import { verifyMaterial, type VerifyOptions } from '../../src/core/verify/index.js';
import type { VerificationReport } from '../../src/core/verify/report.js';

/** A fixed verification time: tests never depend on the wall clock. */
export const NOW = new Date('2026-11-01T12:00:00Z');
export const NOW_S = NOW.getTime() / 1000;
export const DAY = 86_400;

export const ORG = 'https://org.example';
export const AUTHORITY = 'https://authority.example';
export const OTHER_AUTHORITY = 'https://other-authority.example';

/** iat/nbf/exp around NOW: valid from a day ago for `lifetime` seconds. */
export function validity(lifetime = 30 * DAY, start = NOW_S - DAY): { iat: number; nbf: number; exp: number } {
  return { iat: start, nbf: start, exp: start + lifetime };
}

/** A syntactically valid CT log pointer (the commitment check itself is skipped in these tests). */
export const JWS_LOG: LogPointer[] = [{ ver: 'v1', id: new Uint8Array(32).fill(1), hash: new Uint8Array(32).fill(2) }];
export const CWT_LOG: LogPointer[] = [{ id: new Uint8Array(32).fill(1), hash: new Uint8Array(32).fill(2) }];

export async function makeKeys(count: number, alg: SignatureAlgorithm = 'ES256'): Promise<SigningKey[]> {
  return Promise.all(Array.from({ length: count }, async () => (await generateSigningKey(alg)).key));
}

// ---- material ------------------------------------------------------------------------------------------------

export const jwsItem = (text: string): Material => ({ kind: 'jws', text });
export const cwtItem = (bytes: Uint8Array): Material => ({ kind: 'cwt', bytes });
export const keyItem = (key: SigningKey): Material => ({ kind: 'jwk', jwk: key.publicKey.jwk });
export const keyItems = (...keys: SigningKey[]): Material[] => keys.map(keyItem);

/** verifyMaterial at NOW with the commitment check explicitly skipped (CT is another issue's concern). */
export function verify(material: Material[], options: Partial<VerifyOptions> = {}): Promise<VerificationReport> {
  return verifyMaterial(material, { now: NOW, commitments: skipCommitmentCheck, ...options });
}

export function codes(report: { errors: ReportedError[] }): string[] {
  return report.errors.map((e) => e.code);
}

// ---- well-formed tokens via the core signer ------------------------------------------------------------------

export function emblemSpec(overrides: Partial<EmblemSpec> = {}): EmblemSpec {
  return { iss: ORG, ...validity(), assets: ['example.org'], purposes: ['protective'], ...overrides };
}

export function endorsementSpec(endorsed: SigningKey, overrides: Partial<EndorsementSpec> = {}): EndorsementSpec {
  return { iss: ORG, sub: ORG, ...validity(), endorse: endorsed.publicKey, end: true, ...overrides };
}

export interface OrgChainKeys {
  emblem: SigningKey;
  root: SigningKey;
  authority: SigningKey;
}

/**
 * The deployed shape: an emblem by the organisation's emblem key, the organisation's root endorsement of that key
 * (with `log`), and optionally an authority's external endorsement of the root key. Keys are given as material.
 */
export async function jwsOrgChain(
  k: OrgChainKeys,
  o: { emblem?: Partial<EmblemSpec>; root?: Partial<EndorsementSpec>; external?: Partial<EndorsementSpec> | false } = {},
): Promise<Material[]> {
  const items: Material[] = [
    jwsItem(await signJws('emblem', emblemSpec(o.emblem), k.emblem)),
    jwsItem(await signJws('endorsement', endorsementSpec(k.emblem, { log: JWS_LOG, ...o.root }), k.root)),
  ];
  if (o.external !== false && o.external !== undefined) {
    items.push(jwsItem(await signJws('endorsement', endorsementSpec(k.root, { iss: AUTHORITY, sub: ORG, log: JWS_LOG, ...o.external }), k.authority)));
  }
  return [...items, ...keyItems(k.emblem, k.root, k.authority)];
}

export async function cwtOrgChain(
  k: OrgChainKeys,
  o: { emblem?: Partial<EmblemSpec>; root?: Partial<EndorsementSpec>; external?: Partial<EndorsementSpec> | false } = {},
): Promise<Material[]> {
  const items: Material[] = [
    cwtItem(await signCwt('emblem', emblemSpec(o.emblem), k.emblem)),
    cwtItem(await signCwt('endorsement', endorsementSpec(k.emblem, { log: CWT_LOG, ...o.root }), k.root)),
  ];
  if (o.external !== false && o.external !== undefined) {
    items.push(cwtItem(await signCwt('endorsement', endorsementSpec(k.root, { iss: AUTHORITY, sub: ORG, log: CWT_LOG, ...o.external }), k.authority)));
  }
  return [...items, ...keyItems(k.emblem, k.root, k.authority)];
}

// ---- hand-crafted JWS ----------------------------------------------------------------------------------------

export function b64json(value: unknown): string {
  return base64urlEncode(utf8Encode(JSON.stringify(value)));
}

/** A raw signature (ECDSA r||s or Ed25519) by `key` over `data`, as JWS and COSE want it. */
export async function rawSign(key: SigningKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign(ALGORITHMS[key.alg].webcrypto.verifyParams, key.cryptoKey!, data as BufferSource));
}

/**
 * A JWS compact token from any header and payload. With a signer, the signature is a correct one over the signing
 * input (so only the crafted defect is present); with `signature`, exactly those bytes/that text are used.
 */
export async function craftJws(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  signer: SigningKey | null,
  options: { signature?: Uint8Array | string } = {},
): Promise<string> {
  const input = `${b64json(header)}.${typeof payload === 'string' ? payload : b64json(payload)}`;
  let sig: string;
  if (typeof options.signature === 'string') sig = options.signature;
  else if (options.signature) sig = base64urlEncode(options.signature);
  else if (signer) sig = base64urlEncode(await rawSign(signer, utf8Encode(input)));
  else sig = '';
  return `${input}.${sig}`;
}

export function jwsEmblemPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ver: 'v1', iss: ORG, ...validity(), assets: ['example.org'], emb: { prp: ['protective'] }, ...overrides };
}

export function jwsEndorsementPayload(endorsed: SigningKey, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ver: 'v1', iss: ORG, sub: ORG, ...validity(), key: endorsed.publicKey.jwsKid, end: true, ...overrides };
}

/** Splits a JWS into its three parts and decodes header and payload. */
export function splitJws(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; parts: [string, string, string] } {
  const parts = token.split('.') as [string, string, string];
  const decode = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: decode(parts[0]), payload: decode(parts[1]), parts };
}

// ---- hand-crafted CWT ----------------------------------------------------------------------------------------

export function cwtHeader(key: SigningKey, extra: Array<[unknown, unknown]> = []): Map<unknown, unknown> {
  return new Map<unknown, unknown>([[1, ALGORITHMS[key.alg].coseAlg], [4, key.publicKey.coseKid], [16, 'application/adem'], ...extra]);
}

export function cwtEmblemClaims(extra: Array<[unknown, unknown]> = []): Map<unknown, unknown> {
  const t = validity();
  return new Map<unknown, unknown>([['ver', 1], [1, ORG], [4, t.exp], [5, t.nbf], [6, t.iat], ['prp', 1], ['assets', ['example.org']], ...extra]);
}

export function cwtEndorsementClaims(endorsed: SigningKey, extra: Array<[unknown, unknown]> = []): Map<unknown, unknown> {
  const t = validity();
  return new Map<unknown, unknown>([
    ['ver', 1], [1, ORG], [2, ORG], [4, t.exp], [5, t.nbf], [6, t.iat], ['prp', 31], ['key', endorsed.publicKey.coseKid], ['end', true], ...extra,
  ]);
}

/**
 * A CWT from parts. `header`/`claims` may be maps (encoded with cborg) or raw bytes (for CBOR cborg refuses to
 * write, such as duplicate keys). The signature is a correct COSE_Sign1 signature by `signer` unless `signature`
 * is given. `outerTags` wrap the COSE array, innermost last in the list order given (default [61, 18]).
 */
export async function craftCwt(opts: {
  header: Map<unknown, unknown> | Uint8Array;
  claims: Map<unknown, unknown> | Uint8Array;
  signer: SigningKey;
  unprotected?: unknown;
  tags?: number[];
  signature?: Uint8Array;
  trailing?: Uint8Array;
}): Promise<Uint8Array> {
  const protectedBytes = opts.header instanceof Uint8Array ? opts.header : encode(opts.header);
  const payload = opts.claims instanceof Uint8Array ? opts.claims : encode(opts.claims);
  const signature = opts.signature ?? (await rawSign(opts.signer, sign1SigningInput(protectedBytes, payload)));
  let item: unknown = [protectedBytes, opts.unprotected ?? new Map(), payload, signature];
  for (const tag of [...(opts.tags ?? [61, 18])].reverse()) item = new Tagged(tag, item);
  const bytes = encode(item);
  if (!opts.trailing) return bytes;
  const out = new Uint8Array(bytes.length + opts.trailing.length);
  out.set(bytes);
  out.set(opts.trailing, bytes.length);
  return out;
}

/** CBOR map bytes with the given (already encoded) key/value pairs, duplicates allowed. */
export function rawCborMap(pairs: Array<[unknown, unknown]>): Uint8Array {
  const n = pairs.length;
  const head = n < 24 ? [0xa0 | n] : [0xb8, n];
  const chunks = [Uint8Array.from(head), ...pairs.flatMap(([k, v]) => [encode(k), encode(v)])];
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

export { hexEncode, Tagged, encode as cborEncode };

/**
 * Asserts that a report carries an error with `code`. Every assertion in these suites passes a message: under tsx,
 * a failing `assert.ok(x)` without one makes Node try to rebuild the message from the source and hang.
 */
export function assertHasCode(report: { errors: ReportedError[] }, code: string): void {
  if (!report.errors.some((e) => e.code === code)) {
    throw new assert.AssertionError({ message: `expected error code ${code}, got ${JSON.stringify(report.errors.slice(0, 10))}`, actual: codes(report), expected: code, operator: 'includes' });
  }
}
