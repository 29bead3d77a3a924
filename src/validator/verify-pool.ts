import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../crypto/module-worker.js';
import { EmblemError } from '../core/errors.js';
import { ScanErrorCodes } from './errors.js';
import type { Material } from '../core/material/material.js';
import { skipCommitmentCheck, type CommitmentChecker } from '../core/verify/commitment.js';
import { loadPublicKeys, verifyMaterial } from '../core/verify/index.js';
import type { VerificationReport } from '../core/verify/report.js';
import { createSignatureCache } from '../core/verify/signature-cache.js';
import type { VerificationPolicy } from '../core/verify/verify-token-set.js';
import { ScanLimits } from './limits.js';
import { ParsedMaterialCache } from './parsed-material-cache.js';
import type { FromVerifyWorker, ToVerifyWorker, VerifyJob, VerifyWorkerConfig } from './verify-messages.js';

export interface VerificationPoolOptions {
  /** Worker threads; 0 verifies on the calling thread (small scans, tests, environments without workers). */
  workers: number;
  now: Date;
  trustedKeys: Material[];
  policy: VerificationPolicy;
  commitments: CommitmentChecker;
}

interface WorkerSlot {
  worker: Worker;
  outstanding: Map<number, { resolve: (r: VerificationReport) => void; reject: (e: Error) => void }>;
  batch: VerifyJob[];
}

/** A verification thread running verify-worker next to this module (built .js, or .ts under tsx). */
function startVerifyWorker(workerData: VerifyWorkerConfig): Worker {
  const resourceLimits = { maxYoungGenerationSizeMb: ScanLimits.workerYoungGenerationMb, maxOldGenerationSizeMb: ScanLimits.workerOldGenerationMb };
  return startModuleWorker(import.meta.url, './verify-worker', { workerData, resourceLimits });
}

/**
 * Spreads token-set verification over worker threads (signature checks are CPU-bound; DNS I/O stays on the main
 * thread). Jobs go to the least busy worker in batches; each worker keeps its own signature cache for the whole
 * scan. Commitment checks come back to the main thread so one cache and one rate limit serve all workers.
 */
export class VerificationPool {
  private readonly slots: WorkerSlot[] = [];
  private readonly inline: ((m: Material[]) => Promise<VerificationReport>) | null = null;
  private nextId = 0;
  private flushScheduled = false;
  private closed = false;
  private restarts = 0;
  /** Threads to start at the first set (0: verification runs inline). */
  private readonly workers: number = 0;

  constructor(private readonly options: VerificationPoolOptions) {
    const workers = Math.max(0, Math.min(options.workers, ScanLimits.maxWorkers));
    if (workers === 0) {
      const cache = createSignatureCache(ScanLimits.signatureCacheEntries);
      const parsed = new ParsedMaterialCache();
      const trusted = Promise.all(options.trustedKeys.map((k) => loadPublicKeys(k))).then((k) => k.flat());
      this.inline = async (material) =>
        verifyMaterial(material, { now: options.now, trustedKeys: await trusted, policy: options.policy, commitments: options.commitments, cache, parser: parsed });
      return;
    }
    this.workers = workers;
  }

  /** Threads start at the first set to verify: a scan whose names have no emblem never pays for them. */
  private startSlots(): void {
    while (this.slots.length < this.workers) this.slots.push(this.startWorker());
  }

  private startWorker(): WorkerSlot {
    const config: VerifyWorkerConfig = {
      now: this.options.now.toISOString(),
      trustedKeys: this.options.trustedKeys,
      policy: this.options.policy,
      skipCommitments: this.options.commitments === skipCommitmentCheck,
      signatureCacheEntries: ScanLimits.signatureCacheEntries,
    };
    const worker = startVerifyWorker(config);
    const slot: WorkerSlot = { worker, outstanding: new Map(), batch: [] };
    worker.on('message', (message: FromVerifyWorker) => {
      if (message.type === 'verified') {
        for (const { id, report } of message.results) {
          const job = slot.outstanding.get(id);
          slot.outstanding.delete(id);
          job?.resolve(report);
        }
        return;
      }
      const { id, request } = message;
      // Dates and byte arrays survive structured cloning, so the request is usable as is.
      void this.options.commitments.check(request).then(
        (outcome) => worker.postMessage({ type: 'commitment-outcome', id, outcome } satisfies ToVerifyWorker),
        (err: unknown) =>
          worker.postMessage({
            type: 'commitment-outcome',
            id,
            outcome: { status: 'unavailable', errors: [{ code: 'COMMITMENT_UNAVAILABLE', message: err instanceof Error ? err.message : String(err) }] },
          } satisfies ToVerifyWorker),
      );
    });
    const fail = (err: Error) => {
      // A dead worker fails only its own jobs; a replacement takes its place for the rest of the scan, unless
      // threads keep dying (a broken installation): then the pool closes and every later set is an error.
      const i = this.slots.indexOf(slot);
      if (i !== -1 && !this.closed) {
        if (this.restarts++ < ScanLimits.maxWorkerRestarts) this.slots[i] = this.startWorker();
        else void this.close();
      }
      for (const job of slot.outstanding.values()) job.reject(new EmblemError(ScanErrorCodes.VERIFY_WORKER_FAILED, `verification thread died: ${err.message}`));
      slot.outstanding.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed && slot.outstanding.size > 0) fail(new Error(`exit code ${code}`));
    });
    return slot;
  }

  verify(material: Material[]): Promise<VerificationReport> {
    if (this.inline) return this.inline(material);
    if (this.closed) return Promise.reject(new EmblemError(ScanErrorCodes.VERIFY_WORKER_FAILED, 'verification pool closed'));
    if (this.slots.length === 0) this.startSlots();
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.outstanding.size < slot.outstanding.size) slot = s;
    const id = this.nextId++;
    return new Promise<VerificationReport>((resolve, reject) => {
      slot.outstanding.set(id, { resolve, reject });
      slot.batch.push({ id, material });
      if (slot.batch.length >= ScanLimits.verifyBatchSize) this.flush(slot);
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          for (const s of this.slots) this.flush(s);
        });
      }
    });
  }

  private flush(slot: WorkerSlot): void {
    if (slot.batch.length === 0) return;
    const jobs = slot.batch;
    slot.batch = [];
    slot.worker.postMessage({ type: 'verify', jobs } satisfies ToVerifyWorker);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    // Nothing is in flight when a scan closes normally; after a give-up, no caller may wait forever.
    for (const s of this.slots) {
      for (const job of s.outstanding.values()) job.reject(new EmblemError(ScanErrorCodes.VERIFY_WORKER_FAILED, 'verification threads stopped'));
      s.outstanding.clear();
    }
  }
}
