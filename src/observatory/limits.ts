/** Every bound of the observe service, with the reason for its value. */
export const ObserveLimits = {
  /** A config is a few pages of YAML; anything larger is a mistake (or a targets list that belongs in targetsFile). */
  maxConfigBytes: 1024 * 1024,
  /** Inline `targets` are for small deployments; large lists stream from `targetsFile`. */
  maxInlineTargets: 10_000,
  /** The service is sized for 100,000 targets per process (issue 12); beyond that, jobs go to the BullMQ workers. */
  maxTargets: 1_000_000,
  /** Each vantage point multiplies the query load; a handful gives the cross-check INCONSISTENT needs. */
  maxVantagePoints: 16,
  maxWebhooks: 16,
  /** A window shorter than a few seconds cannot finish its queries; longer than a day is no longer monitoring. */
  minWindowSeconds: 1,
  maxWindowSeconds: 86_400,
  /** N consecutive windows open (and close) an incident; more than 100 would hide real incidents for too long. */
  maxConsecutiveWindows: 100,
  /** Observations in flight at once: bounds sockets and memory (each holds a few DNS messages and a report). */
  defaultConcurrency: 256,
  maxConcurrency: 4_096,
  /** Targets read from the list and processed as one batch (state load, incident step, store write). */
  batchSize: 500,
  /** Evidence entries appended before the service publishes a checkpoint mid-window. The log holds every entry
   *  since its last checkpoint in memory (1-20 KB each), so without this a 100,000-target window held ~250 MB
   *  until its end; 4,096 entries (16 entry tiles) bound that to a few MB-tens of MB at a cost of ~25 extra
   *  publishes (fsyncs) per 100,000 observations, and also bound what a crash loses. */
  checkpointEveryEntries: 4_096,
  /** Ports per owner-mode probe, and how long a TCP connect may take before the port counts as unreachable. */
  maxProbePorts: 16,
  probeTimeoutMs: 3_000,
  /** A target name longer than a DNS name is not a target. */
  maxTargetLength: 253,
  /** Known CT certificates per watched organisation (SHA-256 fingerprints). */
  maxKnownCertificates: 10_000,
  /** CT entries fetched per watch round and log, so one huge log cannot starve the observations. */
  maxCtEntriesPerRound: 10_000,
  /** Default per-query timeout and attempts for observations (a vantage point that times out yields an error observation). */
  defaultQueryTimeoutMs: 2_000,
  defaultQueryAttempts: 2,
  /** Observations per BullMQ job: small enough that a dead worker's job is redone quickly, large enough that Redis
   *  round trips are a small share of the work (each observation is a few DNS queries and one verification). */
  queueJobObservations: 100,
  /** Default wait for a job's result (at least the window): a job not done by then is error observations. */
  defaultJobTimeoutSeconds: 60,
  /** Default lock: a worker killed mid-job loses its job to another worker after about this long. */
  defaultQueueLockSeconds: 30,
  /** Attempts per job (a worker dying counts as a stalled attempt); then its observations are errors. */
  queueJobAttempts: 3,
  /** Finished jobs kept in Redis (the coordinator removes each after reading it; this bounds leftovers). */
  queueKeptJobs: 1_000,
} as const;
