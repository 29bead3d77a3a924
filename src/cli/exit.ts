/** Exit codes, documented in the README; scripts depend on them. */
export const ExitCode = {
  /** The result is neither INVALID nor UNSIGNED (or the command succeeded). */
  OK: 0,
  /** Verification ran and the result is INVALID or UNSIGNED (or a check found no valid emblem). */
  NOT_VALID: 1,
  /** Bad usage or unreadable input. */
  USAGE: 2,
  /**
   * Indeterminate: a root-key commitment could not be checked (log list, log or network unavailable), so the
   * result is only what was proven without it. Not INVALID: check again online, with --log-list or --ct-bundle.
   */
  INDETERMINATE: 3,
} as const;

/** Thrown by commands for bad usage or unreadable input: printed as one line, exit 2, no stack trace. */
export class UsageError extends Error {
  readonly code: string;
  constructor(message: string, code = 'USAGE') {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}

/**
 * After a command failed because its Redis queue did not answer (QUEUE_UNREACHABLE): ioredis keeps reconnecting in
 * the background and BullMQ's close() waits for the connection that never came, so the process would never exit.
 * The error is still printed by the CLI's handler (and sets the exit code) before this unref'd timer ends the process.
 */
export function exitSoonAfterQueueFailure(err: unknown): void {
  if ((err as { code?: unknown }).code === 'QUEUE_UNREACHABLE') setTimeout(() => process.exit(), 200).unref();
}
