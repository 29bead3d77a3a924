/**
 * Bounds of `emblem scan`, each with the reason for its value. Input files, ZDNS answers and Redis contents are
 * attacker-influenced (a scanned zone chooses its TXT records), so every buffer and counter here is bounded; memory
 * must not grow with the number of targets.
 */
export const ScanLimits = {
  /** Longest input line read: a ZDNS line with a name's whole TXT RRset (128 ADEM records of up to ~1.4 KB,
   *  JSON-escaped) stays below 512 KiB. Longer lines become an INPUT_INVALID result without being kept. */
  maxInputLineBytes: 512 * 1024,
  /** Most TXT / IHLE / address answers taken from one ZDNS line (the DNS adapter keeps at most 128 ADEM records). */
  maxPrefetchedAnswers: 512,
  /** Most CSV columns parsed per row; a name column beyond this is an error. */
  maxCsvColumns: 256,
  /** Default and largest number of targets being discovered/verified at once. Each target has at most one query
   *  outstanding, and a UDP socket's default receive buffer (212 KB on Linux) holds ~160 small datagrams, so 100
   *  keeps a single-threaded server from dropping answers while keeping it busy; 4096 is far above what one
   *  resolver should see from one client. */
  defaultConcurrency: 100,
  maxConcurrency: 4096,
  /** Finished results waiting for an earlier, slower target before they can be written in input order. A target
   *  stuck in DNS timeouts holds at most this many results (~2 KB each) in memory, then intake pauses. */
  maxReorderWindow: 8192,
  /** Highest --qps accepted (queries per second); more than a single host should ever send to a resolver. */
  maxQps: 1_000_000,
  /** Output is flushed to the file at least this often (a kill -9 loses at most this much finished work, which
   *  --resume then redoes) and whenever this many bytes are pending. */
  flushIntervalMs: 250,
  flushBytes: 256 * 1024,
  /** fsync cadence: the file survives a machine crash up to the last fsync; every flush would cost a disk sync
   *  per 250 ms, which is cheap, but cap it to once a second for slow disks. */
  fsyncIntervalMs: 1_000,
  /** Token sets sent to a verification worker in one message: batching amortises postMessage costs (~20 ms of
   *  ES512 work per message makes them negligible); small enough that threads finish a burst of work together. */
  verifyBatchSize: 16,
  /** Longest output line read back on --resume or from the distributed queue: a check report holds at most 16
   *  token sets (DnsLimits.maxTokenSetsPerName) of a few KB each. Longer lines are not ours. */
  maxResultLineBytes: 1024 * 1024,
  /** Verification threads restarted after dying before the pool gives up (sets then become errors): a thread
   *  killed by one pathological set is replaced, a thread that cannot start at all must not respawn forever. */
  maxWorkerRestarts: 16,
  /** Most worker threads (the machine's cores are the useful bound; this is a sanity cap). */
  maxWorkers: 64,
  /** V8 heap of each verification thread. A small young generation (default 16-32 MB per thread) makes short-lived
   *  garbage die early, which cut a 2-thread scan's peak RSS from ~310 to ~225 MB in measurement. The old
   *  generation bound caps a thread fed pathological input: it dies, its sets are reported as errors, a new one starts. */
  workerYoungGenerationMb: 8,
  workerOldGenerationMb: 256,
  /** Parsed tokens/keys remembered per verification thread: the endorsements and keys shared by many targets stay
   *  hot; distinct emblems pass through. A parsed JWS token is a few KB, so 4096 entries stay near 10 MB. */
  parsedMaterialCacheEntries: 4096,
  /** Signature cache entries per worker: ~100 bytes each, so 100k ≈ 10 MB per thread. */
  signatureCacheEntries: 100_000,
  /** Root-key commitment outcomes remembered (keyed by the log-bearing token); a scan meets few organisations. */
  commitmentCacheEntries: 10_000,
  /** How long a commitment that could not be checked (log down, rate limited) is remembered before asking again:
   *  long enough that thousands of targets of one organisation do not each wait on a dead log, short enough that a
   *  transient outage does not leave the rest of an hours-long scan indeterminate. */
  unavailableCommitmentRetryMs: 60_000,
  /** CT requests per second per log, so a scan never hammers a log operator. */
  ctRequestsPerSecondPerLog: 10,
  /** Distinct issuers/authorities counted exactly in the summary; beyond this the count is a lower bound. */
  maxDistinctInSummary: 100_000,
  /** --resume fingerprints the input by its size and the SHA-256 of this many bytes at its start and at its end:
   *  two bounded reads (a scan's input can be many GB) that tell a different or regenerated list from the same one.
   *  Inputs up to twice this size are hashed whole. */
  inputFingerprintBytes: 1024 * 1024,
  /** Progress: redraw interval on a TTY, JSON-line interval when stderr is piped. */
  progressTtyIntervalMs: 200,
  progressJsonIntervalMs: 1_000,
  /** Distributed mode: targets per BullMQ job (fewer Redis round trips), jobs pending in Redis before the
   *  producer waits (Redis memory stays bounded), attempts per job before it is reported as failed. */
  queueBatchSize: 100,
  maxQueuedJobs: 200,
  queueJobAttempts: 5,
  /** A worker that stops renewing its lock for this long is presumed dead and its job is handed to another. */
  queueLockMs: 10_000,
  /** How long a scan or worker waits for Redis at start before giving up (then it exits 2 instead of hanging). */
  queueConnectTimeoutMs: 10_000,
} as const;
