/** Bounds of `emblem org` (each with its reason). */
export const OrgLimits = {
  /** Parallel direct queries to one primary when reading/verifying: fast for 1,000 assets, gentle on the server. */
  readConcurrency: 16,
  /** Assets verified in parallel (each a few queries and a CT check): 1,000 assets in seconds. */
  verifyConcurrency: 16,
  /** One direct TCP query to an authoritative server; they answer in milliseconds. */
  queryTimeoutMs: 5_000,
  /** Largest emblem-org.yaml accepted: a config with thousands of assets is far below this. */
  maxConfigBytes: 4 * 1024 * 1024,
  /** Largest state file. */
  maxStateBytes: 64 * 1024 * 1024,
  /** Assets per organisation folder. */
  maxAssets: 100_000,
  /** Seconds a verification waits for records to appear on the authoritative servers (secondaries lag). */
  verifyWaitSeconds: 30,
  /** Longest wait for the state lock; holders keep it only for one file write (milliseconds). */
  stateLockWaitMs: 10_000,
} as const;
