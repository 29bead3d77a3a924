import { EmblemError } from '../errors.js';
import { parseAssetIdentifier, type AssetIdentifier } from '../identifiers/asset.js';
import { parseOrganizationIdentifier } from '../identifiers/organization.js';
import { Limits } from '../limits.js';

export function claimError(message: string): EmblemError {
  return new EmblemError('CLAIM_INVALID', message);
}

/** NumericDate (RFC 7519 §2): a finite, non-negative number of seconds; floats allowed. */
export function numericDate(value: unknown, name: string, required: true): number;
export function numericDate(value: unknown, name: string, required: false): number | null;
export function numericDate(value: unknown, name: string, required: boolean): number | null {
  if (value === undefined) {
    if (required) throw claimError(`missing required claim "${name}"`);
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw claimError(`claim "${name}" must be a NumericDate`);
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
