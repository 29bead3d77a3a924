/**
 * Stable failure codes of `emblem scan` / `emblem worker`. They appear in result lines (`errors[].code`, the CSV
 * `error` column) and CLI messages; scripts match on them, so add new ones, never rename. (Kept here rather than
 * in core/errors.ts because only the scan raises them; the core type `ErrorCode` admits any string.)
 */
export const ScanErrorCodes = {
  /** An input line could not be read as a target: too long, bad JSON/CSV, no usable name. */
  INPUT_INVALID: 'INPUT_INVALID',
  /** The lookup of a prefetched (ZDNS) target ended in SERVFAIL, TIMEOUT or another failure status. */
  DNS_RESOLVER_FAILED: 'DNS_RESOLVER_FAILED',
  /** --resume found an output file that is not a prefix of this scan's output (gap, foreign line, no header), or
   *  one recorded as the scan of another input (or of standard input, which cannot be compared). */
  RESUME_MISMATCH: 'RESUME_MISMATCH',
  /** A verification thread died (out of memory on pathological input); its token sets are reported with this. */
  VERIFY_WORKER_FAILED: 'VERIFY_WORKER_FAILED',
  /** Redis did not answer within ScanLimits.queueConnectTimeoutMs when the scan or worker started. */
  QUEUE_UNREACHABLE: 'QUEUE_UNREACHABLE',
  /** A job read from Redis is not an emblem scan batch. */
  QUEUE_JOB_INVALID: 'QUEUE_JOB_INVALID',
  /** A distributed job failed on every attempt, or its result in Redis was unusable for a target. */
  QUEUE_JOB_FAILED: 'QUEUE_JOB_FAILED',
} as const;
