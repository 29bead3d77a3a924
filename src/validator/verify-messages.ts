import type { Material } from '../core/material/material.js';
import type { CommitmentOutcome, CommitmentRequest } from '../core/verify/commitment.js';
import type { VerificationReport } from '../core/verify/report.js';
import type { VerificationPolicy } from '../core/verify/verify-token-set.js';

/** What every verification worker is started with: the scan's fixed verification inputs. */
export interface VerifyWorkerConfig {
  /** ISO-8601 verification time (`--at`, or the scan's start). */
  now: string;
  trustedKeys: Material[];
  policy: VerificationPolicy;
  /** True when commitments are skipped: the worker answers "skipped" itself instead of asking the main thread. */
  skipCommitments: boolean;
  signatureCacheEntries: number;
}

export interface VerifyJob {
  id: number;
  material: Material[];
}

/** Main thread -> worker. */
export type ToVerifyWorker =
  | { type: 'verify'; jobs: VerifyJob[] }
  | { type: 'commitment-outcome'; id: number; outcome: CommitmentOutcome };

/** Worker -> main thread. Commitment checks go to the main thread, where one cache serves all workers. */
export type FromVerifyWorker =
  | { type: 'verified'; results: Array<{ id: number; report: VerificationReport }> }
  | { type: 'commitment'; id: number; request: CommitmentRequest };
