/**
 * Stable failure codes of the observatory's alerts (webhooks, the metrics endpoint). They appear in the webhook
 * dead-letter file (`reason`), JSON log lines and CLI messages; add new ones, never rename.
 */
export const AlertErrorCodes = {
  /** A webhook URL that is not http: or https:. */
  WEBHOOK_URL_INVALID: 'WEBHOOK_URL_INVALID',
  /** A webhook without a secret (receivers could not tell our alerts from anyone's). */
  WEBHOOK_SECRET_INVALID: 'WEBHOOK_SECRET_INVALID',
  /** An alert that is not JSON-serialisable or larger than AlertLimits.maxWebhookBodyBytes (a caller bug). */
  WEBHOOK_EVENT_INVALID: 'WEBHOOK_EVENT_INVALID',
  /** Dead-letter reason: every attempt failed (network error, timeout, 5xx, 408/425/429). */
  WEBHOOK_DELIVERY_FAILED: 'WEBHOOK_DELIVERY_FAILED',
  /** Dead-letter reason: the receiver refused the alert for good (a 3xx or a 4xx other than 408/425/429). */
  WEBHOOK_REJECTED: 'WEBHOOK_REJECTED',
  /** Dead-letter reason: the queue was full (the receiver has been failing for a long time). */
  WEBHOOK_QUEUE_FULL: 'WEBHOOK_QUEUE_FULL',
  /** Dead-letter reason: the sender was closed (or its close deadline passed) before the alert was delivered. */
  WEBHOOK_CLOSED: 'WEBHOOK_CLOSED',
  /** The dead-letter file could not be written: alerts would be lost, so close() fails loudly with this. */
  WEBHOOK_DEAD_LETTER_FAILED: 'WEBHOOK_DEAD_LETTER_FAILED',
  /** The metrics listen address is not HOST:PORT. */
  METRICS_LISTEN_INVALID: 'METRICS_LISTEN_INVALID',
  /** The metrics server could not bind its address (in use, not permitted). */
  METRICS_LISTEN_FAILED: 'METRICS_LISTEN_FAILED',
} as const;
