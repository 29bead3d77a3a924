/**
 * Every failure the project reports carries a stable `code`; scripts match on codes, never on messages.
 * Codes are part of the public contract: add new ones, never rename.
 */
export const ErrorCodes = {
  TOKEN_MALFORMED: 'TOKEN_MALFORMED',
  TOKEN_UNSIGNED: 'TOKEN_UNSIGNED',
  CLAIM_INVALID: 'CLAIM_INVALID',
  HEADER_INVALID: 'HEADER_INVALID',
  ALGORITHM_UNSUPPORTED: 'ALGORITHM_UNSUPPORTED',
  KEY_INVALID: 'KEY_INVALID',
  KEY_UNKNOWN: 'KEY_UNKNOWN',
  /** A command would replace an existing file (a key, a config) without being told to. */
  FILE_EXISTS: 'FILE_EXISTS',
  KID_MISMATCH: 'KID_MISMATCH',
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_NOT_YET_VALID: 'TOKEN_NOT_YET_VALID',
  IDENTIFIER_INVALID: 'IDENTIFIER_INVALID',
  NO_EMBLEM: 'NO_EMBLEM',
  MULTIPLE_EMBLEMS: 'MULTIPLE_EMBLEMS',
  MIXED_ERAS: 'MIXED_ERAS',
  CHAIN_BROKEN: 'CHAIN_BROKEN',
  CHAIN_BRANCHED: 'CHAIN_BRANCHED',
  CHAIN_CYCLE: 'CHAIN_CYCLE',
  CHAIN_NOT_AUTHENTICATED: 'CHAIN_NOT_AUTHENTICATED',
  ENDORSEMENT_NOT_TRANSITIVE: 'ENDORSEMENT_NOT_TRANSITIVE',
  CONSTRAINT_VIOLATED: 'CONSTRAINT_VIOLATED',
  ROOT_LOG_MISSING: 'ROOT_LOG_MISSING',
  COMMITMENT_UNVERIFIED: 'COMMITMENT_UNVERIFIED',
  COMMITMENT_FAILED: 'COMMITMENT_FAILED',
  ENDORSEMENT_REJECTED: 'ENDORSEMENT_REJECTED',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  INPUT_UNRECOGNIZED: 'INPUT_UNRECOGNIZED',
  USAGE: 'USAGE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes] | (string & {});

export class EmblemError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmblemError';
    this.code = code;
  }

  toJSON(): ReportedError {
    return { code: this.code, message: this.message };
  }
}

/** The shape in which errors appear in reports and JSON output. */
export interface ReportedError {
  code: ErrorCode;
  message: string;
}

export function reportError(err: unknown): ReportedError {
  if (err instanceof EmblemError) return { code: err.code, message: err.message };
  // Anything else is a bug or a library failure on hostile input: still report it, never crash.
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message };
}
