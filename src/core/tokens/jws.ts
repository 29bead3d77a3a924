import { EmblemError } from '../errors.js';
import { base64Decode, base64urlDecode, utf8Decode, utf8Encode } from '../encoding.js';
import { lazyTokenHash } from './token-hash.js';
import { Limits } from '../limits.js';
import type { LogPointer } from '../verify/commitment.js';
import { algorithmFromJose } from './algorithms.js';
import { assetList, checkValidityWindow, claimError, numericDate, optionalOrganization } from './claims-common.js';
import { assertNestingDepth } from './json-depth.js';
import { parsePublicJwk, type PublicKey } from './keys.js';
import {
  DISTRIBUTION_BITS,
  JWS_PURPOSES,
  PURPOSE_BITS,
  type DistributionName,
  type Token,
  type TokenClaims,
  type TokenKind,
} from './token.js';

const KID_TEXT = /^[a-z2-7]{52}$/;
/** Registered JWT claims ADEM does not use; CORE-01 forbids other registered claims. */
const FORBIDDEN_REGISTERED = ['aud', 'jti'];

function parseJsonSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8Decode(base64urlDecode(segment)));
  } catch (err) {
    if (err instanceof EmblemError && err.code !== 'TOKEN_MALFORMED') throw err;
    throw new EmblemError('TOKEN_MALFORMED', `${what} is not base64url-encoded JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EmblemError('TOKEN_MALFORMED', `${what} must be a JSON object`);
  }
  assertNestingDepth(value, what);
  return value as Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses a CORE-01 JWS compact token (protected header only). Verifies structure and claims, not the signature. */
export function parseJwsToken(text: string): Token {
  if (text.length > Limits.maxTokenBytes) {
    throw new EmblemError('LIMIT_EXCEEDED', `token is ${text.length} bytes (limit ${Limits.maxTokenBytes})`);
  }
  const parts = text.split('.');
  if (parts.length !== 3) throw new EmblemError('TOKEN_MALFORMED', 'a JWS compact token has three dot-separated parts');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = parseJsonSegment(headerPart, 'JWS header');

  const cty = typeof header.cty === 'string' ? header.cty.toLowerCase() : header.cty;
  if (cty !== 'adem-emb' && cty !== 'adem-end') {
    throw new EmblemError('HEADER_INVALID', `header "cty" must be "adem-emb" or "adem-end", got ${JSON.stringify(header.cty)}`);
  }
  const kind: TokenKind = cty === 'adem-emb' ? 'emblem' : 'endorsement';
  // alg is checked before anything else touches keys: "none", HS256 & co. never reach a verifier.
  const info = algorithmFromJose(header.alg);
  if (signaturePart.length === 0) throw new EmblemError('TOKEN_UNSIGNED', 'token has an empty signature');
  if (header.crit !== undefined) throw new EmblemError('HEADER_INVALID', 'header "crit" names extensions ADEM does not define');
  if (header.typ !== undefined && (typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT')) {
    throw new EmblemError('HEADER_INVALID', `unexpected header "typ" ${JSON.stringify(header.typ)}`);
  }

  let headerKid: string | null = null;
  if (header.kid !== undefined) {
    if (typeof header.kid !== 'string' || !KID_TEXT.test(header.kid)) {
      throw new EmblemError('HEADER_INVALID', 'header "kid" must be a 52-character base32 key identifier');
    }
    headerKid = header.kid;
  }
  let embeddedKey: PublicKey | null = null;
  if (header.jwk !== undefined) {
    embeddedKey = parsePublicJwk(header.jwk);
    if (embeddedKey.alg !== info.alg) {
      throw new EmblemError('HEADER_INVALID', `header alg ${info.alg} does not match the embedded key's algorithm ${embeddedKey.alg}`);
    }
    if (headerKid !== null && headerKid !== embeddedKey.jwsKid) {
      throw new EmblemError('KID_MISMATCH', 'header "kid" is not the thumbprint of the embedded "jwk"');
    }
  }
  if (headerKid === null && embeddedKey === null) {
    throw new EmblemError('HEADER_INVALID', 'header names no verification key ("kid" or "jwk")');
  }

  const payload = parseJsonSegment(payloadPart, 'JWS payload');
  const signature = base64urlDecode(signaturePart);
  const claims = parseJwsClaims(payload, kind);
  return lazyTokenHash({
    era: 'jws',
    kind,
    raw: text,
    alg: info.alg,
    headerKid,
    embeddedKey,
    signingInput: utf8Encode(`${headerPart}.${payloadPart}`),
    signature,
    claims,
  }, () => utf8Encode(text));
}

function bitsFromStrings<N extends string>(value: unknown, table: Record<N, number>, allowed: readonly N[], name: string): number {
  if (!Array.isArray(value)) throw claimError(`"${name}" must be an array of strings`);
  let bits = 0;
  for (const v of value) {
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      throw claimError(`"${name}" contains unknown value ${JSON.stringify(v)} (allowed: ${allowed.join(', ')})`);
    }
    bits |= table[v as N];
  }
  return bits;
}

const DISTRIBUTIONS = Object.keys(DISTRIBUTION_BITS) as DistributionName[];

function parseLogEntries(value: unknown): LogPointer[] {
  if (!Array.isArray(value)) throw claimError('"log" must be an array');
  if (value.length > Limits.maxLogEntries) throw new EmblemError('LIMIT_EXCEEDED', `"log" has ${value.length} entries (limit ${Limits.maxLogEntries})`);
  return value.map((entry, i) => {
    if (!isObject(entry)) throw claimError(`"log"[${i}] must be an object`);
    const id = decode32(entry.id, `"log"[${i}].id`);
    if (entry.ver === 'v1') {
      return { ver: 'v1', id, hash: decode32(entry.hash, `"log"[${i}].hash`) };
    }
    if (entry.ver === 'static') {
      // CORE-01's table lists only `hash`, but both deployed prototypes write `index` for static-ct logs.
      const index = entry.index;
      if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) throw claimError(`"log"[${i}].index must be a non-negative integer`);
      return { ver: 'static', id, index };
    }
    throw claimError(`"log"[${i}].ver must be "v1" or "static"`);
  });
}

function decode32(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'string') throw claimError(`${name} must be a base64 string`);
  let bytes: Uint8Array;
  try {
    bytes = base64Decode(value);
  } catch {
    throw claimError(`${name} is not valid base64`);
  }
  if (bytes.length !== 32) throw claimError(`${name} must encode 32 bytes`);
  return bytes;
}

function parseJwsClaims(p: Record<string, unknown>, kind: TokenKind): TokenClaims {
  if (p.ver !== 'v1') throw claimError(`claim "ver" must be "v1", got ${JSON.stringify(p.ver)}`);
  for (const name of FORBIDDEN_REGISTERED) if (name in p) throw claimError(`registered claim "${name}" is not allowed in ADEM tokens`);
  const iat = numericDate(p.iat, 'iat', true);
  const nbf = numericDate(p.nbf, 'nbf', true);
  const exp = numericDate(p.exp, 'exp', true);
  checkValidityWindow(nbf, exp);
  const iss = optionalOrganization(p.iss, 'iss');
  const claims: TokenClaims = {
    iat, nbf, exp, iss, sub: null, assets: null, parsedAssets: null, purposes: null, distribution: null,
    key: null, end: false, log: null, constraintAssets: null, window: null,
  };
  const emb = p.emb;
  if (emb !== undefined && !isObject(emb)) throw claimError('claim "emb" must be an object');

  if (kind === 'emblem') {
    // "assets" since draft -00; "bearers" (2025 editor's copy) and "ass" (2023) are read as synonyms.
    const names = ['assets', 'bearers', 'ass'].filter((n) => n in p);
    if (names.length !== 1) throw claimError(names.length ? `claims ${names.join(', ')} are synonyms; give one` : 'emblem has no "assets" claim');
    for (const n of ['sub', 'key', 'end', 'log']) if (n in p) throw claimError(`claim "${n}" is not allowed in an emblem`);
    if (!emb) throw claimError('emblem has no "emb" claim');
    for (const n of Object.keys(emb)) if (n !== 'prp' && n !== 'dst') throw claimError(`emblem "emb" has unknown member "${n}"`);
    const { texts, parsed } = assetList(p[names[0]!], names[0]!, false);
    claims.assets = texts;
    claims.parsedAssets = parsed;
    // A missing field is the empty set: an emblem without prp claims no purpose an endorsement could forbid.
    claims.purposes = emb.prp === undefined ? 0 : bitsFromStrings(emb.prp, PURPOSE_BITS, JWS_PURPOSES, 'emb.prp');
    claims.distribution = emb.dst === undefined ? 0 : bitsFromStrings(emb.dst, DISTRIBUTION_BITS, DISTRIBUTIONS, 'emb.dst');
    return claims;
  }

  for (const n of ['assets', 'bearers', 'ass']) if (n in p) throw claimError(`claim "${n}" is not allowed in an endorsement`);
  claims.sub = optionalOrganization(p.sub, 'sub');
  if (typeof p.key === 'string') {
    if (!KID_TEXT.test(p.key)) throw claimError('claim "key" must be a 52-character base32 key identifier');
    claims.key = p.key;
  } else if (isObject(p.key)) {
    // LEGACY (2023) put the whole JWK here; its kid is recomputed, never taken from the JWK.
    claims.key = parsePublicJwk(p.key).jwsKid;
  } else {
    throw claimError('endorsement has no "key" claim');
  }
  if (p.end !== undefined && typeof p.end !== 'boolean') throw claimError('claim "end" must be a boolean');
  claims.end = p.end === true;
  if (p.log !== undefined) claims.log = parseLogEntries(p.log);
  if (emb) {
    for (const n of Object.keys(emb)) if (!['prp', 'dst', 'assets', 'wnd'].includes(n)) throw claimError(`endorsement "emb" has unknown member "${n}"`);
    if (emb.prp !== undefined) claims.purposes = bitsFromStrings(emb.prp, PURPOSE_BITS, JWS_PURPOSES, 'emb.prp');
    if (emb.dst !== undefined) claims.distribution = bitsFromStrings(emb.dst, DISTRIBUTION_BITS, DISTRIBUTIONS, 'emb.dst');
    if (emb.assets !== undefined) claims.constraintAssets = assetList(emb.assets, 'emb.assets', true).parsed;
    if (emb.wnd !== undefined) {
      if (typeof emb.wnd !== 'number' || !Number.isSafeInteger(emb.wnd) || emb.wnd < 0) throw claimError('"emb.wnd" must be a non-negative integer');
      claims.window = emb.wnd;
    }
  }
  return claims;
}
