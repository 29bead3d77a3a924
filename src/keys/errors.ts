import { EmblemError } from '../core/errors.js';

/** Stable failure codes of the key stores (PKCS#11). Add, never rename: scripts match on them. */
export const KeyStoreErrorCodes = {
  /** The PKCS#11 module (.so) could not be loaded or initialised. */
  PKCS11_MODULE_UNLOADABLE: 'PKCS11_MODULE_UNLOADABLE',
  /** No initialised token with this label in any slot. */
  PKCS11_TOKEN_NOT_FOUND: 'PKCS11_TOKEN_NOT_FOUND',
  /** No PIN given (EMBLEM_PKCS11_PIN or --pkcs11-pin-file), or the PIN file is unreadable. */
  PKCS11_PIN_MISSING: 'PKCS11_PIN_MISSING',
  /** The token refused the PIN (or is locked). */
  PKCS11_LOGIN_FAILED: 'PKCS11_LOGIN_FAILED',
  /** No key pair with this label in the token. */
  PKCS11_KEY_NOT_FOUND: 'PKCS11_KEY_NOT_FOUND',
  /** A key with this label exists already: generation never adds a second one (which would be ambiguous). */
  PKCS11_KEY_EXISTS: 'PKCS11_KEY_EXISTS',
  /** The key in the token is not an EC key on a curve ADEM uses, or its attributes are unusable. */
  PKCS11_KEY_UNSUPPORTED: 'PKCS11_KEY_UNSUPPORTED',
  /** The key found by label is not the one the configuration names (other CKA_ID, curve or public key). */
  PKCS11_KEY_MISMATCH: 'PKCS11_KEY_MISMATCH',
  /** Any other Cryptoki failure (the CKR_ name is in the message). */
  PKCS11_ERROR: 'PKCS11_ERROR',
} as const;

export type KeyStoreErrorCode = (typeof KeyStoreErrorCodes)[keyof typeof KeyStoreErrorCodes];

export function keyStoreError(code: KeyStoreErrorCode, message: string, cause?: unknown): EmblemError {
  return new EmblemError(code, message, cause === undefined ? undefined : { cause });
}
