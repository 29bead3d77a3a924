import { EmblemError } from '../errors.js';
import { base32LowerNoPad, base64urlDecode, base64urlEncode, utf8Encode } from '../encoding.js';
import { sha256 } from '../hash.js';
import { Limits } from '../limits.js';
import { ALGORITHMS, algorithmForCurve, algorithmFromCose, type AlgorithmInfo, type SignatureAlgorithm } from './algorithms.js';

/** The public members ADEM uses, plus `alg` (CORE-01: keys must carry `alg`; never `kid`). */
export interface PublicJwk {
  kty: 'EC' | 'OKP';
  crv: string;
  x: string;
  y?: string;
  alg: SignatureAlgorithm;
}

/** A validated public key with both eras' key identifiers computed from its material (never taken from input). */
export interface PublicKey {
  alg: SignatureAlgorithm;
  jwk: PublicJwk;
  /** CORE-01 kid: RFC 7638 SHA-256 JWK thumbprint, base32 lower-case, unpadded (52 characters). */
  jwsKid: string;
  /** CORE-02 kid: RFC 9679 SHA-256 COSE Key thumbprint (32 bytes). */
  coseKid: Uint8Array;
  /** Textual form of the COSE kid: base32 lower-case, unpadded. */
  coseKidText: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeCoordinate(value: unknown, bytes: number, name: string): Uint8Array {
  if (typeof value !== 'string') throw new EmblemError('KEY_INVALID', `JWK member "${name}" must be a string`);
  const decoded = base64urlDecode(value);
  if (decoded.length !== bytes) {
    throw new EmblemError('KEY_INVALID', `JWK member "${name}" must be ${bytes} bytes, got ${decoded.length}`);
  }
  return decoded;
}

/**
 * Validates a public JWK from an untrusted source. A supplied `kid` is ignored (ADEM recomputes kids); `d` is
 * rejected because a private key in a public position is a leak, not a key. A missing `alg` is inferred from the
 * curve (each curve has exactly one ADEM algorithm), a present one must match it.
 */
export function parsePublicJwk(input: unknown): PublicKey {
  if (!isPlainObject(input)) throw new EmblemError('KEY_INVALID', 'JWK must be a JSON object');
  if ('d' in input) throw new EmblemError('KEY_INVALID', 'JWK contains private key material ("d")');
  const info = algorithmForCurve(input.crv);
  if (!info || input.kty !== info.kty) {
    throw new EmblemError('KEY_INVALID', `unsupported key type/curve ${JSON.stringify(input.kty)}/${JSON.stringify(input.crv)}`);
  }
  if (input.alg !== undefined && input.alg !== info.alg) {
    throw new EmblemError('KEY_INVALID', `JWK alg ${JSON.stringify(input.alg)} does not match curve ${info.crv} (${info.alg})`);
  }
  const x = decodeCoordinate(input.x, info.coordinateBytes, 'x');
  const y = info.kty === 'EC' ? decodeCoordinate(input.y, info.coordinateBytes, 'y') : undefined;
  return makePublicKey(info, x, y);
}

function makePublicKey(info: AlgorithmInfo, x: Uint8Array, y: Uint8Array | undefined): PublicKey {
  const jwk: PublicJwk = y
    ? { kty: info.kty, crv: info.crv, x: base64urlEncode(x), y: base64urlEncode(y), alg: info.alg }
    : { kty: info.kty, crv: info.crv, x: base64urlEncode(x), alg: info.alg };
  // The CWT-era kid is computed on first use: JWS-era verification never needs it.
  let coseKid: Uint8Array | undefined;
  const cose = () => (coseKid ??= coseKeyThumbprint(info, x, y));
  return {
    alg: info.alg,
    jwk,
    jwsKid: jwkThumbprintKid(jwk),
    get coseKid() {
      return cose();
    },
    get coseKidText() {
      return base32LowerNoPad(cose());
    },
  };
}

/** RFC 7638: SHA-256 over the required members in lexicographic order, no white space; base32 lower, unpadded. */
export function jwkThumbprintKid(jwk: PublicJwk): string {
  const canonical =
    jwk.kty === 'EC'
      ? `{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`
      : `{"crv":"${jwk.crv}","kty":"OKP","x":"${jwk.x}"}`;
  return base32LowerNoPad(sha256(utf8Encode(canonical)));
}

function cborHead(major: number, length: number): number[] {
  if (length < 24) return [(major << 5) | length];
  if (length < 256) return [(major << 5) | 24, length];
  return [(major << 5) | 25, length >> 8, length & 0xff];
}

function cborInt(value: number): number[] {
  return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
}

/**
 * RFC 9679 COSE Key thumbprint: SHA-256 of the deterministic CBOR map of kty and the required public parameters
 * (EC2: 1, -1, -2, -3; OKP: 1, -1, -2), keys in bytewise order of their encodings (1 < -1 < -2 < -3). The map has
 * a fixed shape, so it is encoded here directly rather than trusting a general encoder's key ordering.
 */
export function coseKeyThumbprint(info: AlgorithmInfo, x: Uint8Array, y: Uint8Array | undefined): Uint8Array {
  const head = [...cborHead(5, y ? 4 : 3), ...cborInt(1), ...cborInt(info.coseKty), ...cborInt(-1), ...cborInt(info.coseCrv), ...cborInt(-2), ...cborHead(2, x.length)];
  const parts: Array<ArrayLike<number>> = [head, x];
  if (y) parts.push([...cborInt(-3), ...cborHead(2, y.length)], y);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return sha256(out);
}

/** COSE_Key (RFC 9052 §7) from a decoded CBOR map. `alg` (3) is required (CORE-02, GO-CWT); `d` (-4) rejected. */
export function parseCoseKey(map: unknown): PublicKey {
  if (!(map instanceof Map)) throw new EmblemError('KEY_INVALID', 'COSE_Key must be a CBOR map');
  if (map.has(-4)) throw new EmblemError('KEY_INVALID', 'COSE_Key contains private key material (-4)');
  const info = algorithmFromCose(map.get(3));
  if (map.get(1) !== info.coseKty || map.get(-1) !== info.coseCrv) {
    throw new EmblemError('KEY_INVALID', `COSE_Key kty/crv do not match algorithm ${info.alg}`);
  }
  const x = map.get(-2);
  const y = map.get(-3);
  if (!(x instanceof Uint8Array) || x.length !== info.coordinateBytes) throw new EmblemError('KEY_INVALID', 'COSE_Key x has the wrong length');
  if (info.kty === 'EC') {
    if (!(y instanceof Uint8Array) || y.length !== info.coordinateBytes) throw new EmblemError('KEY_INVALID', 'COSE_Key y has the wrong length (compressed points are not supported)');
    return makePublicKey(info, x, y);
  }
  return makePublicKey(info, x, undefined);
}

/** The COSE_Key map for a public key, as published in IHLE records (kid omitted, as CORE-02 requires). */
export function coseKeyMap(key: PublicKey): Map<number, number | Uint8Array> {
  const info = ALGORITHMS[key.alg];
  const map = new Map<number, number | Uint8Array>([
    [1, info.coseKty],
    [3, info.coseAlg],
    [-1, info.coseCrv],
    [-2, base64urlDecode(key.jwk.x)],
  ]);
  if (key.jwk.y) map.set(-3, base64urlDecode(key.jwk.y));
  return map;
}

export function kidOf(key: PublicKey, era: 'jws' | 'cwt'): string {
  return era === 'jws' ? key.jwsKid : key.coseKidText;
}

/**
 * Imported CryptoKeys cached by thumbprint: importing a P-521 key costs about as much as one verify, and a scan
 * sees the same few authority keys millions of times. Bounded, oldest evicted first.
 */
const importCache = new Map<string, Promise<CryptoKey>>();
const IMPORT_CACHE_SIZE = 10_000;

export function importVerificationKey(key: PublicKey): Promise<CryptoKey> {
  const cacheKey = key.jwsKid;
  let cached = importCache.get(cacheKey);
  if (!cached) {
    const info = ALGORITHMS[key.alg];
    const { alg: _alg, ...material } = key.jwk;
    cached = crypto.subtle.importKey('jwk', material, info.webcrypto.importParams, false, ['verify']);
    cached.catch(() => importCache.delete(cacheKey));
    if (importCache.size >= IMPORT_CACHE_SIZE) importCache.delete(importCache.keys().next().value!);
    importCache.set(cacheKey, cached);
  }
  return cached;
}

/**
 * Verifies raw signatures (ECDSA r||s, Ed25519). The algorithm always comes from the key, never from a header.
 * The core's default uses WebCrypto so it runs in browsers; Node front ends install a node:crypto verifier
 * (src/crypto/node-signature-verifier.ts), which skips WebCrypto's thread-pool hop and costs less CPU per token.
 */
export interface SignatureVerifier {
  verify(key: PublicKey, data: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

export const webCryptoSignatureVerifier: SignatureVerifier = {
  async verify(key, data, signature) {
    const info = ALGORITHMS[key.alg];
    if (signature.length !== info.signatureBytes) return false;
    try {
      const cryptoKey = await importVerificationKey(key);
      return await crypto.subtle.verify(info.webcrypto.verifyParams, cryptoKey, signature as BufferSource, data as BufferSource);
    } catch {
      return false;
    }
  },
};

let defaultVerifier: SignatureVerifier = webCryptoSignatureVerifier;

/** Installs the process-wide default verifier (a front end does this once at start-up). */
export function useSignatureVerifier(verifier: SignatureVerifier): void {
  defaultVerifier = verifier;
}

export function verifySignature(key: PublicKey, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return defaultVerifier.verify(key, data, signature);
}

/** Parses a PEM SubjectPublicKeyInfo (any ADEM curve) into a PublicKey, via WebCrypto so it also runs in browsers. */
export async function parsePublicKeyPem(pem: string): Promise<PublicKey> {
  if (pem.length > Limits.maxKeyBytes) throw new EmblemError('KEY_INVALID', 'PEM key too long');
  const m = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (!m) throw new EmblemError('KEY_INVALID', 'expected a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) block');
  const der = Uint8Array.from(atob(m[1]!.replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  for (const info of Object.values(ALGORITHMS)) {
    try {
      const key = await crypto.subtle.importKey('spki', der, info.webcrypto.importParams, true, ['verify']);
      const jwk = await crypto.subtle.exportKey('jwk', key);
      return parsePublicJwk({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
    } catch {
      // not this curve; try the next one
    }
  }
  throw new EmblemError('KEY_INVALID', 'PEM key is not an ES256/ES384/ES512/Ed25519 public key');
}

