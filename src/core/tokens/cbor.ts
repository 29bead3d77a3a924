import { decode, encode, Tagged } from 'cborg';
import { EmblemError } from '../errors.js';
import { assertNestingDepth } from './json-depth.js';

export const CWT_TAG = 61;
export const COSE_SIGN1_TAG = 18;

/**
 * Strict CBOR decoding of attacker input: duplicate map keys rejected (data hiding), maps kept as Map (integer
 * labels), only the CWT and COSE_Sign1 tags understood, trailing bytes rejected, nesting bounded.
 */
export function decodeCbor(bytes: Uint8Array, what: string): unknown {
  let value: unknown;
  try {
    value = decode(bytes, {
      useMaps: true,
      rejectDuplicateMapKeys: true,
      allowUndefined: false,
      allowIndefinite: false,
      allowBigInt: false,
      tags: { [CWT_TAG]: Tagged.decoder(CWT_TAG), [COSE_SIGN1_TAG]: Tagged.decoder(COSE_SIGN1_TAG) } as never,
    });
  } catch (err) {
    // RangeError from absurd nesting lands here too: a clear error, never a crash.
    throw new EmblemError('TOKEN_MALFORMED', `${what} is not valid CBOR: ${(err as Error).message}`);
  }
  assertNestingDepth(value, what);
  return value;
}

export function encodeCbor(value: unknown): Uint8Array {
  return encode(value);
}

export { Tagged };
