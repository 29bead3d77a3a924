/**
 * Bounds of the observatory's alerts, each with the reason for its value. Webhook receivers are remote and may be
 * slow, down or hostile; none of that may block observation, grow memory without bound, or lose an alert silently.
 */
export const AlertLimits = {
  /** Attempts per webhook delivery before the alert goes to the dead-letter file. With the backoff below, 6
   *  attempts span about a minute (1+2+4+8+16 s between them): a receiver restart is ridden out, a receiver that
   *  is down for long ends in the file instead of holding memory. */
  webhookMaxAttempts: 6,
  /** First retry delay; each further retry doubles it (with jitter), up to webhookMaxBackoffMs. */
  webhookInitialBackoffMs: 1_000,
  webhookMaxBackoffMs: 60_000,
  /** One HTTP attempt (connect, send, status line) must finish within this; a receiver that accepts and never
   *  answers must not hold a delivery slot. */
  webhookRequestTimeoutMs: 10_000,
  /** Alerts queued or being retried per receiver. Alerts are rare (incidents, not observations); 10,000 covers a
   *  mass event (every marked name of a large operator dropping at once) while bounding memory to ~10-50 MB.
   *  Beyond it, alerts go straight to the dead-letter file (WEBHOOK_QUEUE_FULL), never dropped. */
  webhookMaxQueue: 10_000,
  /** Deliveries in flight at once per receiver: keeps a burst quick without opening hundreds of connections. */
  webhookConcurrency: 4,
  /** How long close() waits for queued alerts before writing the rest to the dead-letter file (SIGTERM must end
   *  the service promptly; a 30 s grace is what process supervisors commonly allow). */
  webhookCloseTimeoutMs: 30_000,
  /** Largest alert body: an incident with its observations' leaf indexes and details is a few KB. */
  maxWebhookBodyBytes: 256 * 1024,
  /** Response bytes read from a receiver before the connection is dropped: only the status matters. */
  maxWebhookResponseBytes: 64 * 1024,
  /** Metrics endpoint: concurrent connections, header size and time bounds (it is usually scraped every 15-60 s by
   *  one Prometheus; anything beyond a handful of clients is abuse). */
  metricsMaxConnections: 32,
  metricsMaxHeaderBytes: 8 * 1024,
  metricsRequestTimeoutMs: 10_000,
  /** An idle scrape connection is closed after this (Prometheus reconnects each scrape interval anyway). */
  metricsKeepAliveTimeoutMs: 5_000,
} as const;
