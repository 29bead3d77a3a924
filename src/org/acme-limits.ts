/** Bounds of the ACME binding-certificate flow (issue 10, `emblem org cert`). */
export const AcmeLimits = {
  /**
   * One ACME request (directory, nonce, order, poll). Public CAs answer in well under a second; a CA that takes
   * longer than this is treated as unreachable rather than hanging an unattended renewal.
   */
  requestTimeoutMs: 30_000,
  /**
   * The whole order, from account to certificate. Let's Encrypt validates DNS-01 within a minute; resolvers of
   * the organisation's DNS provider may need a few minutes to see a fresh TXT record, so allow ten.
   */
  orderTimeoutMs: 10 * 60_000,
  /** Polling attempts while an authorization or order is pending (acme-client backs off between them). */
  backoffAttempts: 12,
  /**
   * acme-client retries a request answered with 429/5xx (or not at all): this many times, this many seconds apart
   * (times the attempt number) unless the CA sends Retry-After. Its defaults (5 × 5 s) would keep an unattended
   * renewal busy for over a minute on a dead CA; the renewal scheduler retries later anyway.
   */
  retryAttempts: 2,
  retryDelaySeconds: 1,
  /** How much of an ACME problem document is kept in an error message (it is hostile input too). */
  problemChars: 2_000,
  /** Names in one binding certificate: host, adem-configuration.host and one kid name per era. */
  maxNames: 8,
} as const;
