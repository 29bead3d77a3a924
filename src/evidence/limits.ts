/** Every bound of the evidence log, with the reason for its value. */
export const EvidenceLimits = {
  /** Largest entry: C2SP tlog-tiles entry bundles prefix each entry with a big-endian uint16 length. An observation
   *  record (a few DNS answers of 1-4 KB plus the check report) is 5-20 KB. */
  maxEntryBytes: 65_535,
  /** Largest checkpoint / signed note read: the body is three short lines; even 16 witness co-signatures add ~2 KB. */
  maxNoteBytes: 16 * 1024,
  /** Most signature lines in a note (the observer plus witnesses); more is garbage, not a busier log. */
  maxNoteSignatures: 32,
  /** Most extension lines after the root hash in a checkpoint body (C2SP tlog-checkpoint allows some; we write none). */
  maxCheckpointExtensions: 16,
  /** Longest key name / origin line. Origins are schema-less URLs, well under this. */
  maxNameLength: 256,
  /** Largest entry bundle on disk or over HTTP: 256 entries of at most 64 KiB plus their 2-byte prefixes. */
  maxEntryBundleBytes: 256 * (65_535 + 2),
  /** Largest evidence bundle read by `evidence verify`: up to maxBundleEntries entries of 64 KiB as base64 plus proofs. */
  maxBundleBytes: 32 * 1024 * 1024,
  /** Most entries in one evidence bundle: a few per vantage point; 256 vantage points is far beyond any config. */
  maxBundleEntries: 256,
  /** Most DNS answers in one observation record (TXT, IHLE, A, AAAA, retries). */
  maxAnswersPerEntry: 16,
  /** Most trusted keys recorded in one observation: the observe config caps trustedKeys at 1,000 files; a trust
   *  store of a few authorities is typical. Each key is a public JWK of at most maxTrustedKeyBytes. */
  maxTrustedKeysPerEntry: 1_000,
  /** Largest recorded trusted key (its JSON): an Ed25519/P-256/P-384 public JWK is under 300 bytes. */
  maxTrustedKeyBytes: 2_048,
  /** Longest inclusion / consistency proof: 2 * 64 levels covers any tree a 64-bit size allows. */
  maxProofHashes: 128,
  /** Full tiles and entry bundles (immutable) that may wait in memory for the next checkpoint before an append
   *  writes them itself: two entry bundles of the largest entries. The observe service publishes every 4,096
   *  entries (~16 bundles of 1-20 KB entries, 4-80 MB), so the log, not the caller's cadence, bounds its memory. */
  maxPendingTileBytes: 2 * 256 * (65_535 + 2),
  /** Hash tiles (8 KiB each) a TileTreeReader keeps (least recently used dropped first): the few tiles of one proof
   *  per level, times the proofs of an export, in 8 MiB. */
  readerCacheTiles: 1_024,
  /** Rows asked of the observation index per query by `evidence export` (below the stores' 10,000 cap): a slice
   *  of time next to `at` with more rows is halved, so a query stays small whatever the target's history. */
  indexPageRows: 1_000,
  /** The first slice of time `evidence export` reads on each side of `at`: a few windows of the usual 10-minute
   *  cadence; it doubles while empty-handed, so a sparse history costs a few dozen queries, not a scan. */
  indexFirstSliceMs: 60 * 60 * 1000,
  /** Most index queries on each side of `at`: doubling from an hour spans 1970..9999 in ~40, halving a dense
   *  slice to a millisecond ~20 more. */
  maxIndexQueries: 128,
  /** Most observations a bundle shows after `at` per vantage point (the first changed one is usually the second). */
  maxFollowing: 16,
  /** Concurrent HTTP connections to the read-only server: mirrors fetch a few tiles at a time. */
  maxHttpConnections: 256,
  /** Idle time before a connection is dropped (a client that never reads its response holds a socket no longer). */
  httpIdleTimeoutMs: 10_000,
  /** Longest request URL accepted by the HTTP server: the longest tile path is under 60 bytes. */
  maxHttpPathBytes: 256,
} as const;
