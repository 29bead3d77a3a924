import { EmblemError, type ErrorCode } from '../core/errors.js';

/**
 * Stable failure codes of the evidence log and its bundles. Scripts match on them: add new ones, never rename.
 * (Kept here because only the evidence room raises them; the core type `ErrorCode` admits any string.)
 */
export const EvidenceErrorCodes = {
  /** A signed note / checkpoint is not well formed (bad lines, bad base64, too large, too many signatures). */
  EVIDENCE_NOTE_MALFORMED: 'EVIDENCE_NOTE_MALFORMED',
  /** A verifier or private key text is not a C2SP signed-note Ed25519 key. */
  EVIDENCE_KEY_INVALID: 'EVIDENCE_KEY_INVALID',
  /** No signature line of the observer's key, or it does not verify over the note text. */
  EVIDENCE_SIGNATURE_INVALID: 'EVIDENCE_SIGNATURE_INVALID',
  /** The checkpoint names another log (origin line) than expected. */
  EVIDENCE_ORIGIN_MISMATCH: 'EVIDENCE_ORIGIN_MISMATCH',
  /** An inclusion proof does not lead from the entry to the checkpoint's root. */
  EVIDENCE_INCLUSION_INVALID: 'EVIDENCE_INCLUSION_INVALID',
  /** Two checkpoints are not consistent: the log forked or rewrote history. */
  EVIDENCE_CONSISTENCY_INVALID: 'EVIDENCE_CONSISTENCY_INVALID',
  /** A log entry is not an ObservationRecord. */
  EVIDENCE_ENTRY_MALFORMED: 'EVIDENCE_ENTRY_MALFORMED',
  /** An entry is larger than an entry bundle can hold (uint16 length prefix). */
  EVIDENCE_ENTRY_TOO_LARGE: 'EVIDENCE_ENTRY_TOO_LARGE',
  /** Re-running the ADEM verification of the recorded answers gives another status than the recorded one. */
  EVIDENCE_STATUS_MISMATCH: 'EVIDENCE_STATUS_MISMATCH',
  /** The raw DNS answer of an entry cannot be decoded. */
  EVIDENCE_ANSWER_MALFORMED: 'EVIDENCE_ANSWER_MALFORMED',
  /** The bundle is not the JSON this version writes (syntax, fields, non-canonical text, digest). */
  EVIDENCE_BUNDLE_MALFORMED: 'EVIDENCE_BUNDLE_MALFORMED',
  /** An entry of the bundle is for another target than the bundle says. */
  EVIDENCE_TARGET_MISMATCH: 'EVIDENCE_TARGET_MISMATCH',
  /** Tiles, entry bundles or the checkpoint on disk disagree with each other (damage, or rewritten history). */
  EVIDENCE_LOG_CORRUPT: 'EVIDENCE_LOG_CORRUPT',
  /** No observation of the target in the log around the requested time. */
  EVIDENCE_NOT_FOUND: 'EVIDENCE_NOT_FOUND',
  /** The log directory holds no published checkpoint yet, or a file needed is missing. */
  EVIDENCE_UNAVAILABLE: 'EVIDENCE_UNAVAILABLE',
} as const;

export type EvidenceErrorCode = (typeof EvidenceErrorCodes)[keyof typeof EvidenceErrorCodes];

export function evidenceError(code: EvidenceErrorCode, message: string, cause?: unknown): EmblemError {
  return new EmblemError(code as ErrorCode, message, cause === undefined ? undefined : { cause });
}
