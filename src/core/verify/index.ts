import { EmblemError, type ReportedError } from '../errors.js';
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

export interface VerifyOptions extends Omit<TokenSetOptions, 'trustedKeys'> {
  /** Keys the validator trusts out of band (CORE-01's trusted key input), parsed or as material. */
  trustedKeys?: Array<PublicKey | Material>;
  /** Errors found while reading the input, carried into the report. */
  inputErrors?: ReportedError[];
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
  const where = (item: Material) => (item.source ? `${item.source}: ` : '');

  for (const item of material) {
    try {
      if (item.kind === 'jws' || item.kind === 'cwt') {
        if (tokens.length >= Limits.maxTokensPerSet) {
          errors.add('LIMIT_EXCEEDED', `more than ${Limits.maxTokensPerSet} tokens in one set; the rest is ignored`);
          break;
        }
        tokens.push(parseToken(item));
      } else {
        const loaded = await loadPublicKeys(item);
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
  if (eras.size > 1) {
    errors.add('MIXED_ERAS', 'the set mixes JWS and CWT tokens; verify each era separately');
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
