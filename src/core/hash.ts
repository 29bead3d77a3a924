import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { hexEncode } from './encoding.js';

let implementation: (data: Uint8Array) => Uint8Array = nobleSha256;

/**
 * Installs a faster synchronous SHA-256 for this process (a Node front end installs node:crypto's, ~10x faster than
 * the pure-JS default on key thumbprints). It must return a plain Uint8Array of 32 bytes, equal to the default's.
 */
export function useSha256(fn: (data: Uint8Array) => Uint8Array): void {
  implementation = fn;
}

/** Synchronous SHA-256 (pure JS by default, runs in browsers): kids and cache keys are needed synchronously and inputs are small. */
export function sha256(data: Uint8Array): Uint8Array {
  return implementation(data);
}

export function sha256Hex(data: Uint8Array): string {
  return hexEncode(sha256(data));
}
