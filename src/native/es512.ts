import { createRequire } from 'node:module';

/** An imported P-521 public key inside the native module (an opaque handle). */
export type NativeEs512Key = { readonly __nativeEs512Key: unique symbol };

export interface NativeEs512 {
  /** x and y: the 66-byte big-endian coordinates (a JWK's base64url-decoded "x" and "y"). Throws on a bad point. */
  importKey(x: Buffer, y: Buffer): NativeEs512Key;
  /** ES512 over `data` with a JWS signature (r || s, 132 bytes); false for any other length. */
  verify(key: NativeEs512Key, data: Buffer, signature: Buffer): boolean;
  /** The libcrypto really in use (OpenSSL_version), e.g. "OpenSSL 3.0.15 3 Sep 2024". */
  readonly libraryVersion: string;
}

let loaded: NativeEs512 | null | undefined;

/**
 * The optional ES512 verifier linked against the system's libcrypto (native/es512_verify.c, built at install when
 * the OpenSSL headers are present), or null: not built, another system, or switched off with EMBLEM_NATIVE_ES512=0.
 * Callers fall back to node:crypto, which answers the same (test/native/es512-differential.test.ts).
 */
export function nativeEs512(): NativeEs512 | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.platform !== 'linux' || process.env.EMBLEM_NATIVE_ES512 === '0') return loaded;
  try {
    // src/native/ and dist/native/ are both two levels below the package root, where node-gyp puts build/.
    loaded = createRequire(import.meta.url)('../../build/Release/es512_verify.node') as NativeEs512;
  } catch {
    loaded = null;
  }
  return loaded;
}
