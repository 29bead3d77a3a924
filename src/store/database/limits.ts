/**
 * Bounds of the observatory's database adapters, each with the reason for its value. Record contents come from
 * DNS answers (attacker-influenced), so every text the store keeps is bounded; memory per call is bounded by the
 * batch sizes, not by the number of targets.
 */
export const StoreLimits = {
  /** Rows sent to PostgreSQL in one INSERT (arrays through unnest, 5-6 parameters per statement whatever the row
   *  count): one round trip per 1,000 rows keeps 100,000 observations per window at ~100 round trips while a
   *  statement's arrays stay around 100 KB. SQLite runs one prepared statement per row inside one transaction. */
  insertBatchRows: 1_000,
  /** Targets looked up per query in getTargetStates (one JSON array in SQLite, one text[] in PostgreSQL): a
   *  window's batch of targets costs a few queries, and no single statement carries megabytes of names. */
  lookupBatchTargets: 500,
  /** Most observations one observations() call returns (and the default): an export or an API page around one
   *  time, not a dump; callers page on `time`. At ~200 bytes per row this is ~2 MB. */
  maxObservationsPerQuery: 10_000,
  /** Longest short text kept (target name, time, vantage point, status, cursor key): a domain name is at most 253
   *  octets, an ISO time 24; 1 KiB leaves room for prefixes without letting a caller bug store megabytes. */
  maxShortTextBytes: 1_024,
  /** Longest per-target state (JSON owned by the incident state machine: a few levels and counters, ~1 KB). */
  maxStateBytes: 64 * 1024,
  /** Longest incident detail (human-readable, e.g. a level transition or a certificate's names). */
  maxDetailBytes: 16 * 1024,
  /** Longest cursor value (a CT log position: tree size, root hash, maybe a checkpoint note of ~1 KB). */
  maxCursorValueBytes: 64 * 1024,
  /** Most evidence leaf indexes attached to one incident (the opening and closing windows' observations across
   *  all vantage points; 2 windows x a handful of vantage points is far below this). */
  maxIncidentObservations: 4_096,
  /** PostgreSQL connections in the pool: the observe service writes one batch at a time and the API reads a
   *  little; more connections only cost server memory. */
  postgresPoolSize: 4,
  /** How long to wait for a PostgreSQL connection before STORE_UNAVAILABLE: a server on the LAN answers in
   *  milliseconds; 5 s rides out a restart's first moments without stalling the service for long. */
  postgresConnectTimeoutMs: 5_000,
  /** Longest one PostgreSQL statement may run (server-side statement_timeout and client-side query_timeout): a
   *  1,000-row insert takes milliseconds; a hung server must become STORE_UNAVAILABLE, not a stuck service. */
  postgresStatementTimeoutMs: 30_000,
  /** How long SQLite waits for a lock held by another process (`emblem observe incidents` reading while the
   *  service writes) before STORE_UNAVAILABLE. WAL readers never block the writer; this covers two writers. */
  sqliteBusyTimeoutMs: 5_000,
} as const;
