import { EmblemError } from '../errors.js';
import { base32LowerNoPad, hexEncode } from '../encoding.js';
import { lazyTokenHash } from './token-hash.js';
import { Limits } from '../limits.js';
import type { LogPointer } from '../verify/commitment.js';
import { algorithmFromCose } from './algorithms.js';
import { COSE_SIGN1_TAG, CWT_TAG, decodeCbor, encodeCbor, Tagged } from './cbor.js';
import { assetList, checkValidityWindow, claimError, numericDate, optionalOrganization } from './claims-common.js';
import type { Token, TokenClaims } from './token.js';

export const ADEM_TYP = 'application/adem';
const HEADER_LABELS = new Set<unknown>([1, 2, 4, 16, 'log']);
const CLAIM_LABELS = new Set<unknown>([1, 2, 4, 5, 6, 'ver', 'prp', 'assets', 'key', 'end', 'log']);

/** The COSE Sig_structure (RFC 9052 §4.4) for COSE_Sign1 with empty external AAD. */
export function sign1SigningInput(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}

/**
 * Parses a CORE-02 token: CWT tag 61 around COSE_Sign1 tag 18 (tag 61 is also accepted missing, as in the 17 Sep
 * preview; we always emit it). Strict like the Go CWT prototype: unknown header parameters and claims rejected,
 * registered claims only under integer labels, `emb` rejected as obsolete.
 */
export function parseCwtToken(bytes: Uint8Array): Token {
  if (bytes.length > Limits.maxTokenBytes) {
    throw new EmblemError('LIMIT_EXCEEDED', `token is ${bytes.length} bytes (limit ${Limits.maxTokenBytes})`);
  }
  let item = decodeCbor(bytes, 'CWT');
  if (item instanceof Tagged && item.tag === CWT_TAG) item = item.value;
  if (!(item instanceof Tagged) || item.tag !== COSE_SIGN1_TAG) throw new EmblemError('TOKEN_MALFORMED', 'CWT must be a COSE_Sign1 (tag 18)');
  const parts = item.value;
  if (!Array.isArray(parts) || parts.length !== 4) throw new EmblemError('TOKEN_MALFORMED', 'COSE_Sign1 must be an array of four items');
  const [protectedBytes, unprotected, payload, signature] = parts as unknown[];
  if (!(protectedBytes instanceof Uint8Array) || !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new EmblemError('TOKEN_MALFORMED', 'COSE_Sign1 protected header, payload and signature must be byte strings');
  }
  if (!(unprotected instanceof Map) || unprotected.size !== 0) {
    throw new EmblemError('HEADER_INVALID', 'COSE_Sign1 unprotected header must be empty');
  }
  const header = decodeCbor(protectedBytes, 'protected header');
  if (!(header instanceof Map)) throw new EmblemError('HEADER_INVALID', 'protected header must be a map');
  for (const label of header.keys()) {
    if (!HEADER_LABELS.has(label)) throw new EmblemError('HEADER_INVALID', `unknown protected header parameter ${JSON.stringify(label)}`);
  }
  const info = algorithmFromCose(header.get(1));
  const kid = header.get(4);
  if (!(kid instanceof Uint8Array) || kid.length !== 32) throw new EmblemError('HEADER_INVALID', 'protected header "kid" must be a 32-byte key thumbprint');
  if (header.has(16) && header.get(16) !== ADEM_TYP) throw new EmblemError('HEADER_INVALID', `protected header "typ" must be "${ADEM_TYP}"`);
  if (header.has(2)) {
    const crit = header.get(2);
    if (!Array.isArray(crit) || crit.length === 0 || crit.some((c) => !HEADER_LABELS.has(c) || c === 2)) {
      throw new EmblemError('HEADER_INVALID', '"crit" may only name alg, kid, typ or log');
    }
  }

  const claimsMap = decodeCbor(payload, 'CWT claims');
  if (!(claimsMap instanceof Map)) throw new EmblemError('TOKEN_MALFORMED', 'CWT claims must be a map');
  const claims = parseCwtClaims(claimsMap, header.get('log'));
  if (signature.length === 0) throw new EmblemError('TOKEN_UNSIGNED', 'token has an empty signature');
  return lazyTokenHash({
    era: 'cwt',
    kind: claims.assets ? 'emblem' : 'endorsement',
    raw: hexEncode(bytes),
    alg: info.alg,
    headerKid: base32LowerNoPad(kid),
    embeddedKey: null,
    signingInput: sign1SigningInput(protectedBytes, payload),
    signature,
    claims,
  }, () => bytes);
}

function parseCwtLog(value: unknown): LogPointer[] {
  if (!Array.isArray(value)) throw claimError('"log" must be an array');
  if (value.length > Limits.maxLogEntries) throw new EmblemError('LIMIT_EXCEEDED', `"log" has ${value.length} entries (limit ${Limits.maxLogEntries})`);
  return value.map((entry, i) => {
    if (!(entry instanceof Map)) throw claimError(`"log"[${i}] must be a map`);
    for (const k of entry.keys()) if (k !== 'id' && k !== 'hash' && k !== 'index') throw claimError(`"log"[${i}] has unknown field ${JSON.stringify(k)}`);
    const id = entry.get('id');
    if (!(id instanceof Uint8Array) || id.length !== 32) throw claimError(`"log"[${i}].id must be a 32-byte log ID`);
    const hasHash = entry.has('hash');
    if (hasHash === entry.has('index')) throw claimError(`"log"[${i}] needs exactly one of "hash" and "index"`);
    if (hasHash) {
      const hash = entry.get('hash');
      if (!(hash instanceof Uint8Array) || hash.length !== 32) throw claimError(`"log"[${i}].hash must be 32 bytes`);
      return { id, hash };
    }
    const index = entry.get('index');
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) throw claimError(`"log"[${i}].index must be an unsigned integer`);
    return { id, index };
  });
}

function parseCwtClaims(m: Map<unknown, unknown>, headerLog: unknown): TokenClaims {
  for (const label of m.keys()) {
    if (label === 'emb') throw claimError('claim "emb" is obsolete in CORE-02 (use "prp")');
    if (!CLAIM_LABELS.has(label)) throw claimError(`unknown claim ${JSON.stringify(label)} (registered claims use integer labels)`);
  }
  if (m.get('ver') !== 1) throw claimError(`claim "ver" must be 1, got ${JSON.stringify(m.get('ver'))}`);
  const nbf = numericDate(m.get(5), 'nbf', true);
  const exp = numericDate(m.get(4), 'exp', true);
  checkValidityWindow(nbf, exp);
  const prp = m.get('prp');
  if (typeof prp !== 'number' || !Number.isInteger(prp) || prp < 1 || prp > 31) throw claimError('claim "prp" must be an integer from 1 to 31');
  const claims: TokenClaims = {
    iat: numericDate(m.get(6), 'iat', false),
    nbf, exp,
    iss: optionalOrganization(m.get(1), 'iss'),
    sub: null, assets: null, parsedAssets: null, purposes: prp, distribution: null,
    key: null, end: false, log: null, constraintAssets: null, window: null,
  };
  const isEmblem = m.has('assets');
  const isEndorsement = m.has('key') && m.has('end');
  if (isEmblem === isEndorsement) throw claimError('a CWT is an emblem ("assets") or an endorsement ("key" and "end"), not both or neither');
  // -02's claims table lists `log` as a claim while its text and the Go prototype use the protected header: read both.
  if (headerLog !== undefined && m.has('log')) throw claimError('"log" given both as header parameter and as claim');
  const log = headerLog ?? m.get('log');
  if (isEmblem) {
    for (const label of [2, 'key', 'end', 'log']) if (m.has(label)) throw claimError(`claim ${JSON.stringify(label)} is not allowed in an emblem`);
    if (headerLog !== undefined) throw claimError('an emblem carries no "log"');
    const { texts, parsed } = assetList(m.get('assets'), 'assets', false);
    claims.assets = texts;
    claims.parsedAssets = parsed;
    return claims;
  }
  claims.sub = optionalOrganization(m.get(2), 'sub');
  const key = m.get('key');
  if (!(key instanceof Uint8Array) || key.length !== 32) throw claimError('claim "key" must be a 32-byte key thumbprint');
  claims.key = base32LowerNoPad(key);
  if (typeof m.get('end') !== 'boolean') throw claimError('claim "end" must be a boolean');
  claims.end = m.get('end') === true;
  if (log !== undefined) claims.log = parseCwtLog(log);
  return claims;
}
