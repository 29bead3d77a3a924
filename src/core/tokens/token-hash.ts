import { sha256Hex } from '../hash.js';
import type { Token } from './token.js';

/**
 * Adds `hash` (SHA-256 of the token bytes, the key of verification caches) computed on first use: a one-off check
 * without caches never pays for it.
 */
export function lazyTokenHash(token: Omit<Token, 'hash'>, bytes: () => Uint8Array): Token {
  let memo: string | undefined;
  return Object.defineProperty(token, 'hash', {
    enumerable: true,
    get: () => (memo ??= sha256Hex(bytes())),
  }) as Token;
}
