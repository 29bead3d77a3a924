/**
 * Every bound of `emblem serve` and the DoH endpoint of `emblem dns serve`, with the reason for its value.
 * Requests come from anyone who can reach the port: each bound caps what one request or client can cost.
 */
export const ServerLimits = {
  /** Default request body limit. A token set is a few KB; 1 MiB holds hundreds of sets or a 10,000-name scan list
   *  (about 30 bytes a name), while a 10 MB upload is refused (413) before it is read. */
  bodyLimitBytes: 1024 * 1024,
  /** Longest URL (path + query). Names are at most 253 octets; 8 KiB leaves room for every parameter. */
  maxUrlBytes: 8 * 1024,
  /** Time to receive a whole request (headers + body): a slow-loris client is cut off after this. */
  requestTimeoutMs: 30_000,
  /** Time to receive the headers of a request; Node's own default (60 s) is generous to trickling clients. */
  headersTimeoutMs: 10_000,
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** A connection that sends nothing at all for this long is closed (socket timeout). */
  connectionTimeoutMs: 15_000,
  /** Concurrent connections; more are refused by the HTTP server (maxConnections). */
  maxConnections: 512,
  /** Rate limit of /api per client address: steady requests per second and burst. A dashboard page makes a handful
   *  of requests; a script checking names one by one is slowed, not refused; --rate-limit 0 turns it off. */
  defaultRatePerSecond: 20,
  rateBurst: 60,
  /** Client addresses tracked by the rate limiter; the oldest entries are dropped beyond this (memory bound). */
  maxRateClients: 10_000,
  /** Scan jobs kept (queued, running or finished) at once; a finished job is evicted when a new one needs room. */
  maxScanJobs: 8,
  /** Scan jobs running at once (each does many DNS lookups). */
  maxRunningScanJobs: 2,
  /** Names in one scan job: 10,000 names fit the body limit and finish in minutes against a nearby resolver. */
  maxNamesPerScan: 10_000,
  /** Lookups one scan job has in flight at once. */
  scanConcurrency: 16,
  /** API tokens in the tokens file (a handful of operators and scripts). */
  maxApiTokens: 100,
  /** Largest tokens file read; 100 entries are ~20 KB. */
  maxTokensFileBytes: 256 * 1024,
  /** Observations returned by one history request (a year at one per 10 minutes per vantage point is ~52k). */
  maxObservationsPerRequest: 100_000,
  /** How long a /api/check answer is reused for the same question (name, resolver, at, skip): a dashboard and
   *  an extension ask for the same few names repeatedly; short enough that a changed zone shows within it. */
  checkCacheMs: 30_000,
  /** Answers kept in that cache (each a few KB). */
  maxCachedChecks: 1_000,
  /** Longest "days" for /api/authority/expiring. */
  maxExpiringDays: 3650,
} as const;

/** Bounds of DNS over HTTPS (RFC 8484). */
export const DohLimits = {
  /** Largest DNS query accepted (GET decoded or POST body). A query is one question plus an OPT record, well
   *  under 512 bytes; 4 KiB leaves room for EDNS options while refusing junk. */
  maxQueryBytes: 4096,
  /** Longest ?dns= value: base64url of maxQueryBytes. */
  maxQueryParamChars: Math.ceil((4096 * 4) / 3),
  /** Cache-Control max-age when the answer has no records to take a TTL from (negative answers use the SOA
   *  minimum when present). */
  defaultMaxAgeSeconds: 0,
} as const;
