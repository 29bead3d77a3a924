import { EmblemError } from '../errors.js';
import { parseAssetIdentifier, type AssetIdentifier } from '../identifiers/asset.js';
import { parseOrganizationIdentifier } from '../identifiers/organization.js';
import { Limits } from '../limits.js';

export function claimError(message: string): EmblemError {
  return new EmblemError('CLAIM_INVALID', message);
}

/**
 * NumericDate (RFC 7519 §2, RFC 8392 §2): a number of seconds since 1970; non-integer values are allowed by both
 * RFCs and stay accepted. Attacker-controlled: a value that is no usable time (not a number, NaN, infinite,
 * negative, or past Limits.maxNumericDate, which a JS Date cannot even hold at 1e300) makes the token
 * TOKEN_MALFORMED, so it is dropped like any malformed token and never reaches a report that prints dates.
 * A missing required date stays CLAIM_INVALID.
 */
export function numericDate(value: unknown, name: string, required: true): number;
export function numericDate(value: unknown, name: string, required: false): number | null;
export function numericDate(value: unknown, name: string, required: boolean): number | null {
  if (value === undefined) {
    if (required) throw claimError(`missing required claim "${name}"`);
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > Limits.maxNumericDate) {
    throw new EmblemError(
      'TOKEN_MALFORMED',
      `claim "${name}" is not a NumericDate from 0 to ${Limits.maxNumericDate} (1970-01-01 to 9999-12-31T23:59:59Z)`,
    );
  }
  return value;
}

export function optionalOrganization(value: unknown, name: string): string | null {
  if (value === undefined) return null;
  try {
    return parseOrganizationIdentifier(value).text;
  } catch (err) {
    throw claimError(`claim "${name}": ${(err as Error).message}`);
  }
}

export function assetList(value: unknown, name: string, allowEmpty: boolean): { texts: string[]; parsed: AssetIdentifier[] } {
  if (!Array.isArray(value)) throw claimError(`claim "${name}" must be an array of asset identifiers`);
  if (!allowEmpty && value.length === 0) throw claimError(`claim "${name}" must not be empty`);
  if (value.length > Limits.maxAssetsPerToken) {
    throw new EmblemError('LIMIT_EXCEEDED', `claim "${name}" lists ${value.length} assets (limit ${Limits.maxAssetsPerToken})`);
  }
  const parsed = value.map((v) => {
    try {
      return parseAssetIdentifier(v);
    } catch (err) {
      throw claimError(`claim "${name}": ${(err as Error).message}`);
    }
  });
  return { texts: value as string[], parsed };
}

/** nbf <= exp is required of any meaningful token; a token valid for no instant is malformed. */
export function checkValidityWindow(nbf: number, exp: number): void {
  if (exp < nbf) throw claimError('"exp" is before "nbf"');
}
