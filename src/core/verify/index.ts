import { EmblemError, type ReportedError } from '../errors.js';
import { hexEncode } from '../encoding.js';
import { Limits } from '../limits.js';
import type { Material } from '../material/material.js';
import { decodeCbor } from '../tokens/cbor.js';
import { parseCwtToken } from '../tokens/cwt.js';
import { parseJwsToken } from '../tokens/jws.js';
import { parseCoseKey, parsePublicJwk, parsePublicKeyPem, type PublicKey } from '../tokens/keys.js';
import type { Era, Token } from '../tokens/token.js';
import type { VerificationReport } from './report.js';
import { ErrorList, verifyTokenSet, type TokenSetOptions } from './verify-token-set.js';

export type { VerificationPolicy, TokenSetOptions } from './verify-token-set.js';

/**
 * How material items become tokens and keys. The default parses every time; a bulk scanner passes one that
 * remembers parsed endorsements and keys, which arrive with every emblem of an organisation.
 */
export interface MaterialParser {
  /** Parses a token; throws EmblemError for malformed input. */
  token(item: Material & { kind: 'jws' | 'cwt' }): Token;
  /** Loads key material (JWK, JWK Set, COSE_Key, PEM); throws EmblemError for malformed input. */
  keys(item: Material): Promise<PublicKey[]>;
}

export const directMaterialParser: MaterialParser = {
  token: (item) => parseToken(item),
  keys: (item) => loadPublicKeys(item),
};

export interface VerifyOptions extends Omit<TokenSetOptions, 'trustedKeys'> {
  /** Keys the validator trusts out of band (CORE-01's trusted key input), parsed or as material. */
  trustedKeys?: Array<PublicKey | Material>;
  /** Errors found while reading the input, carried into the report. */
  inputErrors?: ReportedError[];
  parser?: MaterialParser;
}

/** Turns key material (JWK, JWK Set, COSE_Key, PEM SPKI) into validated public keys. */
export async function loadPublicKeys(item: Material): Promise<PublicKey[]> {
  switch (item.kind) {
    case 'jwk': {
      const jwk = item.jwk as { keys?: unknown };
      if (jwk && typeof jwk === 'object' && Array.isArray(jwk.keys)) {
        if (jwk.keys.length > Limits.maxKeysPerSet) throw new EmblemError('LIMIT_EXCEEDED', `JWK Set has more than ${Limits.maxKeysPerSet} keys`);
        return jwk.keys.map((k) => parsePublicJwk(k));
      }
      return [parsePublicJwk(item.jwk)];
    }
    case 'cose-key':
      if (item.bytes.length > Limits.maxKeyBytes) throw new EmblemError('LIMIT_EXCEEDED', 'COSE_Key too long');
      return [parseCoseKey(decodeCbor(item.bytes, 'COSE_Key'))];
    case 'spki-pem':
      return [await parsePublicKeyPem(item.pem)];
    default:
      throw new EmblemError('KEY_INVALID', `${item.kind} is not key material`);
  }
}

function parseToken(item: Material): Token {
  if (item.kind === 'jws') return parseJwsToken(item.text);
  if (item.kind === 'cwt') return parseCwtToken(item.bytes);
  throw new EmblemError('INPUT_UNRECOGNIZED', `${item.kind} is not a token`);
}

/**
 * Verifies one token set given as raw material: parses every item (a malformed item is reported and skipped,
 * never fatal), then runs the ADEM procedure for the set's era. A set mixing JWS and CWT tokens is INVALID: the
 * eras have different kids and claims, so a chain cannot cross them.
 */
export async function verifyMaterial(material: Material[], options: VerifyOptions): Promise<VerificationReport> {
  const errors = new ErrorList();
  for (const e of options.inputErrors ?? []) errors.add(e.code, e.message);
  const tokens: Token[] = [];
  const keys: PublicKey[] = [];
  let sawUnsigned = false;
  const parser = options.parser ?? directMaterialParser;
  const where = (item: Material) => (item.source ? `${item.source}: ` : '');
  // The same token given twice (two files, a repeated record) is one token, not a second emblem or a branch.
  const seenTokens = new Set<string>();
  let overLimit = false;

  for (const item of material) {
    try {
      if (item.kind === 'jws' || item.kind === 'cwt') {
        const identity = item.kind === 'jws' ? item.text : hexEncode(item.bytes);
        if (seenTokens.has(identity)) continue;
        seenTokens.add(identity);
        if (tokens.length >= Limits.maxTokensPerSet) {
          // A real set holds a handful of tokens. Rejecting the whole set (rather than verifying the first N)
          // keeps the result independent of the order in which hostile input lists them.
          errors.add('LIMIT_EXCEEDED', `more than ${Limits.maxTokensPerSet} distinct tokens in one set; the set is rejected`);
          overLimit = true;
          break;
        }
        tokens.push(parser.token(item));
      } else {
        // Checked before loading too: past the bound, hostile input must not cost a key import per record.
        if (keys.length >= Limits.maxKeysPerSet) {
          errors.add('LIMIT_EXCEEDED', `more than ${Limits.maxKeysPerSet} keys in one set; the rest is ignored`);
          continue;
        }
        const loaded = await parser.keys(item);
        if (keys.length + loaded.length > Limits.maxKeysPerSet) {
          errors.add('LIMIT_EXCEEDED', `more than ${Limits.maxKeysPerSet} keys in one set; the rest is ignored`);
          continue;
        }
        keys.push(...loaded);
      }
    } catch (err) {
      const e = err instanceof EmblemError ? err : new EmblemError('TOKEN_MALFORMED', String((err as Error)?.message ?? err));
      if (e.code === 'TOKEN_UNSIGNED') sawUnsigned = true;
      errors.add(e.code, `${where(item)}${e.message}`);
    }
  }

  const trusted: PublicKey[] = [];
  for (const t of options.trustedKeys ?? []) {
    if ('kind' in t) trusted.push(...(await loadPublicKeys(t)));
    else trusted.push(t);
  }

  const eras = new Set<Era>(tokens.map((t) => t.era));
  if (eras.size > 1) errors.add('MIXED_ERAS', 'the set mixes JWS and CWT tokens; verify each era separately');
  if (eras.size > 1 || overLimit) {
    return {
      era: null, result: ['INVALID'], levels: [], protected: [], issuer: null, endorsedBy: [], commitment: 'not-required',
      errors: errors.finish(), emblem: null, verifiedAt: options.now.toISOString(),
    };
  }
  const era: Era = eras.values().next().value ?? 'jws';
  const report = await verifyTokenSet(era, tokens, keys, { ...options, trustedKeys: trusted }, errors, sawUnsigned);
  if (tokens.length === 0) report.era = null;
  return report;
}

export { verifyTokenSet, ErrorList };
