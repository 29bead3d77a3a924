import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { hexEncode } from './encoding.js';

/** Synchronous SHA-256 (pure JS, runs in browsers): kids and cache keys are needed synchronously and inputs are small. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

export function sha256Hex(data: Uint8Array): string {
  return hexEncode(sha256(data));
}
