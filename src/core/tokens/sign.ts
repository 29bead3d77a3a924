import { EmblemError } from '../errors.js';
import { base64Encode, base64urlEncode, hexEncode, utf8Encode } from '../encoding.js';
import { Limits } from '../limits.js';
import type { LogPointer } from '../verify/commitment.js';
import { ALGORITHMS, algorithmForCurve, type SignatureAlgorithm } from './algorithms.js';
import { COSE_SIGN1_TAG, CWT_TAG, encodeCbor, Tagged } from './cbor.js';
import { ADEM_TYP, sign1SigningInput } from './cwt.js';
import { parsePublicJwk, type PublicKey } from './keys.js';
import { JWS_PURPOSES, PURPOSE_BITS, type DistributionName, type Era, type PurposeName } from './token.js';

/**
 * Signs the JOSE/COSE signing input with a key held elsewhere (a PKCS#11 token, a KMS): returns the raw signature
 * in the JOSE/COSE form (ECDSA: r || s, each left-padded to the coordinate size). Core stays pure: the
 * implementation lives in an adapter (src/keys).
 */
export type RawSigner = (data: Uint8Array) => Promise<Uint8Array>;

/** A private key ready to sign, with its public half: a WebCrypto key, or an external {@link RawSigner}. */
export interface SigningKey {
  alg: SignatureAlgorithm;
  publicKey: PublicKey;
  cryptoKey?: CryptoKey;
  /** Used instead of `cryptoKey` when present. */
  signRaw?: RawSigner;
}

/** A SigningKey whose private half stays outside this process (hardware token): signing goes through `signRaw`. */
export function externalSigningKey(publicJwk: unknown, signRaw: RawSigner): SigningKey {
  const { d, kid: _kid, key_ops: _ops, ext: _ext, ...rest } = (typeof publicJwk === 'object' && publicJwk !== null ? publicJwk : {}) as Record<string, unknown>;
  if (d !== undefined) throw new EmblemError('KEY_INVALID', 'an external signing key takes the public JWK, not the private one');
  const publicKey = parsePublicJwk(rest);
  return { alg: publicKey.alg, publicKey, signRaw };
}

/** Generates a key pair; returns the private JWK (with `alg`, without `kid`, as ADEM wants keys) and the loaded key. */
export async function generateSigningKey(alg: SignatureAlgorithm): Promise<{ privateJwk: JsonWebKey; key: SigningKey }> {
  const info = ALGORITHMS[alg];
  const pair = (await crypto.subtle.generateKey(info.webcrypto.importParams as EcKeyGenParams, true, ['sign', 'verify'])) as CryptoKeyPair;
  const exported = await crypto.subtle.exportKey('jwk', pair.privateKey);
  const privateJwk: JsonWebKey = { kty: exported.kty, crv: exported.crv, x: exported.x, ...(exported.y ? { y: exported.y } : {}), d: exported.d, alg };
  return { privateJwk, key: await loadSigningKey(privateJwk) };
}

export async function loadSigningKey(jwk: unknown): Promise<SigningKey> {
  if (typeof jwk !== 'object' || jwk === null) throw new EmblemError('KEY_INVALID', 'private key must be a JWK object');
  const { d, kid: _kid, key_ops: _ops, ext: _ext, ...rest } = jwk as Record<string, unknown>;
  if (typeof d !== 'string') throw new EmblemError('KEY_INVALID', 'not a private key: JWK has no "d"');
  const publicKey = parsePublicJwk(rest);
  const info = algorithmForCurve(publicKey.jwk.crv)!;
  const { alg: _alg, ...material } = publicKey.jwk;
  let cryptoKey: CryptoKey;
  try {
    cryptoKey = await crypto.subtle.importKey('jwk', { ...material, d }, info.webcrypto.importParams, false, ['sign']);
  } catch (err) {
    throw new EmblemError('KEY_INVALID', `private key cannot be imported: ${(err as Error).message}`);
  }
  return { alg: publicKey.alg, publicKey, cryptoKey };
}

/** Raw signature (JWS form: r||s for ECDSA) over `data`, in software or through the external signer. */
export async function signBytes(key: SigningKey, data: Uint8Array): Promise<Uint8Array> {
  const info = ALGORITHMS[key.alg];
  if (key.signRaw) {
    const signature = await key.signRaw(data);
    if (!(signature instanceof Uint8Array) || signature.length !== info.signatureBytes) {
      throw new EmblemError('KEY_INVALID', `external signer returned ${signature instanceof Uint8Array ? `${signature.length} bytes` : 'no bytes'}, ${key.alg} needs ${info.signatureBytes} (raw r||s)`);
    }
    return signature;
  }
  if (!key.cryptoKey) throw new EmblemError('KEY_INVALID', 'signing key has neither a private key nor an external signer');
  return new Uint8Array(await crypto.subtle.sign(info.webcrypto.verifyParams, key.cryptoKey, data as BufferSource));
}

/** What the issuer states; times are NumericDates (seconds). */
interface CommonSpec {
  iss?: string;
  iat: number;
  nbf: number;
  exp: number;
}

export interface EmblemSpec extends CommonSpec {
  assets: string[];
  /** Default: protective. */
  purposes?: PurposeName[];
  /** JWS only. */
  distribution?: DistributionName[];
}

export interface EndorsementSpec extends CommonSpec {
  /** The endorsed key. */
  endorse: PublicKey;
  sub?: string;
  end: boolean;
  /** Constraints. Absent = unconstrained (CWT: all purposes). */
  purposes?: PurposeName[];
  distribution?: DistributionName[];
  assets?: string[];
  /** Longest emblem lifetime in seconds (JWS `wnd`). */
  window?: number;
  log?: LogPointer[];
}

/**
 * Refuses times this project's own parser (and any validator using JS dates) could not read back: each date a
 * NumericDate within Limits.maxNumericDate, nbf <= exp, a lifetime and a JWS `wnd` within
 * Limits.maxTokenLifetimeSeconds. A token that crashes or is dropped by every validator is never worth signing.
 */
function assertSignableTimes(spec: CommonSpec, window?: number): void {
  for (const [name, v] of [['iat', spec.iat], ['nbf', spec.nbf], ['exp', spec.exp]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > Limits.maxNumericDate) {
      throw new EmblemError('USAGE', `"${name}" ${v} is outside the NumericDate range 0..${Limits.maxNumericDate} (1970-01-01 to 9999-12-31T23:59:59Z)`);
    }
  }
  if (spec.exp < spec.nbf) throw new EmblemError('USAGE', '"exp" is before "nbf"');
  const max = Limits.maxTokenLifetimeSeconds;
  if (spec.exp - spec.nbf > max) {
    throw new EmblemError('USAGE', `lifetime ${spec.exp - spec.nbf} s is longer than the limit of ${max} s (${max / 86_400} days)`);
  }
  if (window !== undefined && (!Number.isSafeInteger(window) || window < 0 || window > max)) {
    throw new EmblemError('USAGE', `"wnd" ${window} is not a lifetime from 0 to ${max} s (${max / 86_400} days)`);
  }
}

function purposeBits(names: PurposeName[]): number {
  return names.reduce((bits, n) => bits | PURPOSE_BITS[n], 0);
}

function requireJwsPurposes(names: PurposeName[]): void {
  for (const n of names) {
    if (!JWS_PURPOSES.includes(n)) throw new EmblemError('USAGE', `purpose "${n}" exists only in CWT-era tokens (use --era cwt)`);
  }
}

function jwsLog(entries: LogPointer[]): Array<Record<string, unknown>> {
  return entries.map((e) =>
    e.index !== undefined
      ? { ver: 'static', id: base64Encode(e.id), index: e.index }
      : { ver: 'v1', id: base64Encode(e.id), hash: base64Encode(e.hash!) },
  );
}

function cwtLog(entries: LogPointer[]): Array<Map<string, unknown>> {
  return entries.map((e) => (e.index !== undefined ? new Map<string, unknown>([['id', e.id], ['index', e.index]]) : new Map<string, unknown>([['id', e.id], ['hash', e.hash]])));
}

/** CORE-01 JWS compact token, in the draft form: header `alg`, `cty`, and `kid` (or `jwk` when embedding the key). */
export async function signJws(kind: 'emblem', spec: EmblemSpec, key: SigningKey, options?: { embedKey?: boolean }): Promise<string>;
export async function signJws(kind: 'endorsement', spec: EndorsementSpec, key: SigningKey, options?: { embedKey?: boolean }): Promise<string>;
export async function signJws(kind: 'emblem' | 'endorsement', spec: EmblemSpec | EndorsementSpec, key: SigningKey, options: { embedKey?: boolean } = {}): Promise<string> {
  assertSignableTimes(spec, kind === 'endorsement' ? (spec as EndorsementSpec).window : undefined);
  const header: Record<string, unknown> = { alg: key.alg, cty: kind === 'emblem' ? 'adem-emb' : 'adem-end' };
  if (options.embedKey) header.jwk = key.publicKey.jwk;
  else header.kid = key.publicKey.jwsKid;
  const claims: Record<string, unknown> = { ver: 'v1' };
  if (spec.iss !== undefined) claims.iss = spec.iss;
  if (kind === 'emblem') {
    const e = spec as EmblemSpec;
    const purposes = e.purposes ?? ['protective'];
    requireJwsPurposes(purposes);
    const emb: Record<string, unknown> = { prp: purposes };
    if (e.distribution) emb.dst = e.distribution;
    Object.assign(claims, { iat: e.iat, nbf: e.nbf, exp: e.exp, assets: e.assets, emb });
  } else {
    const e = spec as EndorsementSpec;
    if (e.sub !== undefined) claims.sub = e.sub;
    Object.assign(claims, { iat: e.iat, nbf: e.nbf, exp: e.exp, key: e.endorse.jwsKid, end: e.end });
    const emb: Record<string, unknown> = {};
    if (e.purposes) {
      requireJwsPurposes(e.purposes);
      emb.prp = e.purposes;
    }
    if (e.distribution) emb.dst = e.distribution;
    if (e.assets) emb.assets = e.assets;
    if (e.window !== undefined) emb.wnd = e.window;
    if (Object.keys(emb).length) claims.emb = emb;
    if (e.log) claims.log = jwsLog(e.log);
  }
  const signingInput = `${base64urlEncode(utf8Encode(JSON.stringify(header)))}.${base64urlEncode(utf8Encode(JSON.stringify(claims)))}`;
  const signature = await signBytes(key, utf8Encode(signingInput));
  return `${signingInput}.${base64urlEncode(signature)}`;
}

/**
 * CORE-02 CWT: tag 61 around COSE_Sign1 tag 18, protected header {alg, kid, typ[, "log"]}, empty unprotected
 * header. `log` goes into the protected header (where -02's validation text and the Go prototype expect it).
 * CORE-02 has no asset, distribution or lifetime constraints: asking for them is a usage error, not silently dropped.
 */
export async function signCwt(kind: 'emblem' | 'endorsement', spec: EmblemSpec | EndorsementSpec, key: SigningKey): Promise<Uint8Array> {
  assertSignableTimes(spec);
  const header = new Map<unknown, unknown>([
    [1, ALGORITHMS[key.alg].coseAlg],
    [4, key.publicKey.coseKid],
    [16, ADEM_TYP],
  ]);
  const claims = new Map<unknown, unknown>([['ver', 1]]);
  if (spec.iss !== undefined) claims.set(1, spec.iss);
  if (kind === 'emblem') {
    const e = spec as EmblemSpec;
    if (e.distribution) throw new EmblemError('USAGE', 'CWT-era emblems have no distribution methods (dst)');
    claims.set(4, e.exp).set(5, e.nbf).set(6, e.iat);
    claims.set('prp', purposeBits(e.purposes ?? ['protective']));
    claims.set('assets', e.assets);
  } else {
    const e = spec as EndorsementSpec;
    if (e.distribution || e.assets || e.window !== undefined) {
      throw new EmblemError('USAGE', 'CWT-era endorsements constrain purposes only (no asset, distribution or lifetime constraints)');
    }
    if (e.sub !== undefined) claims.set(2, e.sub);
    claims.set(4, e.exp).set(5, e.nbf).set(6, e.iat);
    claims.set('prp', e.purposes ? purposeBits(e.purposes) : 31);
    claims.set('key', e.endorse.coseKid);
    claims.set('end', e.end);
    if (e.log) header.set('log', cwtLog(e.log));
  }
  const protectedBytes = encodeCbor(header);
  const payload = encodeCbor(claims);
  const signature = await signBytes(key, sign1SigningInput(protectedBytes, payload));
  return encodeCbor(new Tagged(CWT_TAG, new Tagged(COSE_SIGN1_TAG, [protectedBytes, new Map(), payload, signature])));
}

export async function signToken(era: Era, kind: 'emblem' | 'endorsement', spec: EmblemSpec | EndorsementSpec, key: SigningKey, options: { embedKey?: boolean } = {}): Promise<{ text: string; bytes?: Uint8Array }> {
  if (era === 'jws') {
    const text = kind === 'emblem' ? await signJws('emblem', spec as EmblemSpec, key, options) : await signJws('endorsement', spec as EndorsementSpec, key, options);
    return { text };
  }
  if (options.embedKey) throw new EmblemError('USAGE', 'CWT-era tokens cannot embed keys; publish the key as a COSE_Key');
  const bytes = await signCwt(kind, spec, key);
  return { text: hexEncode(bytes, true), bytes };
}
