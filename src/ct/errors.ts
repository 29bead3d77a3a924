import { EmblemError, type ErrorCode } from '../core/errors.js';

/**
 * Stable failure codes of the Certificate Transparency adapter. They appear in commitment outcomes and CLI
 * output; scripts match on them, so add new ones, never rename. (Kept here rather than in core/errors.ts because
 * only this adapter raises them; the core type `ErrorCode` admits any string.)
 */
export const CtErrorCodes = {
  /** The `log` hash / index is not in the log (get-proof-by-hash said no, or index >= tree size). */
  CT_LEAF_NOT_FOUND: 'CT_LEAF_NOT_FOUND',
  /** The audit path (RFC 6962 proof or the one assembled from hash tiles) does not lead to the signed root. */
  CT_AUDIT_PATH_INVALID: 'CT_AUDIT_PATH_INVALID',
  /** The get-sth tree head signature does not verify with the listed log key. */
  CT_STH_SIGNATURE_INVALID: 'CT_STH_SIGNATURE_INVALID',
  /** No log with this ID (of the required kind) in the log list. */
  CT_LOG_UNKNOWN: 'CT_LOG_UNKNOWN',
  /** The log is listed but retired, rejected or pending, so its entries do not count. */
  CT_LOG_NOT_USABLE: 'CT_LOG_NOT_USABLE',
  /** The logged certificate lacks `<kid>.adem-configuration.<host>` or both of `adem-configuration.<host>` / `<host>`. */
  CT_BINDING_NAME_MISSING: 'CT_BINDING_NAME_MISSING',
  /** The logged certificate is outside its validity period at `now` (a failure only under the strict policy). */
  CT_BINDING_EXPIRED: 'CT_BINDING_EXPIRED',
  /** The static-ct checkpoint note is malformed, for another origin, or its signature does not verify. */
  CT_CHECKPOINT_SIGNATURE_INVALID: 'CT_CHECKPOINT_SIGNATURE_INVALID',
  /** A data tile entry does not hash to the leaf hash in the level-0 hash tile (or has another leaf_index). */
  CT_TILE_MISMATCH: 'CT_TILE_MISMATCH',
  /** Two tree heads of the same log are not consistent: the log forked or rewrote history. */
  CT_LOG_INCONSISTENT: 'CT_LOG_INCONSISTENT',
  /** get-entries returned an entry that does not hash to the requested leaf hash. */
  CT_ENTRY_MISMATCH: 'CT_ENTRY_MISMATCH',
  /** A log response could not be parsed (wrong JSON shape, bad base64, truncated TLS structure). */
  CT_RESPONSE_MALFORMED: 'CT_RESPONSE_MALFORMED',
  /** The log could not be reached, timed out, answered with an error status or too many bytes. */
  CT_LOG_UNREACHABLE: 'CT_LOG_UNREACHABLE',
  /** The log list is unreadable or not a v3 list. */
  CT_LOG_LIST_INVALID: 'CT_LOG_LIST_INVALID',
  /** A certificate (chain) could not be parsed. */
  CT_CERTIFICATE_INVALID: 'CT_CERTIFICATE_INVALID',
  /** An offline CT bundle (`--ct-bundle`) is unreadable, too large or not a bundle written by `emblem ct prefetch`. */
  CT_BUNDLE_INVALID: 'CT_BUNDLE_INVALID',
  /** The local log refused a submission (chain does not end at an accepted root, bad precertificate, ...). */
  CT_SUBMISSION_REJECTED: 'CT_SUBMISSION_REJECTED',
  /**
   * The chain a log stores with an entry does not validate: a signature does not verify, an issuer is not a CA
   * (CA:FALSE) or lacks keyCertSign, an issuer was not valid at the entry's timestamp, the chain does not end at a
   * root the log accepts or at a CA of the trust store, or a precert entry's stored precertificate is not its own.
   * A proven failure (the commitment is INVALID), unlike CT_LOG_UNREACHABLE.
   */
  CT_CHAIN_INVALID: 'CT_CHAIN_INVALID',
} as const;

export type CtErrorCode = (typeof CtErrorCodes)[keyof typeof CtErrorCodes];

export function ctError(code: CtErrorCode | ErrorCode, message: string, cause?: unknown): EmblemError {
  return new EmblemError(code, message, cause === undefined ? undefined : { cause });
}
