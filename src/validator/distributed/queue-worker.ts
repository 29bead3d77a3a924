import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { Worker, type Job } from 'bullmq';
import type { Material } from '../../core/material/material.js';
import { skipCommitmentCheck, type CommitmentChecker } from '../../core/verify/commitment.js';
import { loadPublicKeys } from '../../core/verify/index.js';
import type { ResolverSpec } from '../../dns/resolver.js';
import { CachingCommitmentChecker } from '../commitment-cache.js';
import { ScanLimits } from '../limits.js';
import { RateLimiter } from '../rate-limiter.js';
import { checkTarget, type TargetCheckContext } from '../target-check.js';
import { VerificationPool } from '../verify-pool.js';
import { connectedWithin, parseQueueUrl } from './queue-connection.js';
import { decodeTargets, type QueueJobData, type QueueJobResult, type QueueScanConfig } from './queue-job.js';

export interface QueueWorkerOptions {
  queueUrl: string;
  /** This machine's resolver (each worker asks its own). */
  resolver: ResolverSpec;
  /** Targets checked at once by this worker (spread over up to that many / batch-size jobs). */
  concurrency: number;
  qps: number | null;
  workers: number;
  /** How this worker checks CT commitments when the scan does not skip them. */
  commitments: () => Promise<CommitmentChecker>;
  log: Writable;
  signal: AbortSignal;
}

/** One verification setup per scan configuration (a worker may serve several scans one after another). */
interface ScanContext {
  key: string;
  pool: VerificationPool;
  ctx: TargetCheckContext;
}

/**
 * `emblem worker`: takes batches from the queue, checks each target exactly like a local scan and returns the
 * reports as the job's result. Nothing is written anywhere else, so processing a job twice (after this worker was
 * presumed dead) is harmless: the collector keeps one result per index.
 */
export async function runQueueWorker(options: QueueWorkerOptions): Promise<{ jobs: number; targets: number }> {
  const location = parseQueueUrl(options.queueUrl);
  const queries = options.qps ? new RateLimiter(options.qps) : null;
  let current: ScanContext | null = null;
  let jobs = 0;
  let targetsDone = 0;
  const log = (event: string, fields: Record<string, unknown> = {}) => options.log.write(`${JSON.stringify({ event, ...fields })}\n`);

  const contextFor = async (config: QueueScanConfig): Promise<ScanContext> => {
    const key = createHash('sha256').update(JSON.stringify(config)).digest('base64');
    if (current?.key === key) return current;
    await current?.pool.close();
    const commitments = config.skipCommitmentCheck ? skipCommitmentCheck : new CachingCommitmentChecker(await options.commitments());
    // Keys from Redis are input like any other: only those that parse are trusted (and a bad one is logged).
    const trustedKeys: Material[] = [];
    for (const jwk of config.trustedKeys) {
      const key: Material = { kind: 'jwk', jwk, source: 'queue' };
      try {
        await loadPublicKeys(key);
        trustedKeys.push(key);
      } catch (err) {
        log('trusted-key-rejected', { message: err instanceof Error ? err.message : String(err) });
      }
    }
    const pool = new VerificationPool({ workers: options.workers, now: new Date(config.now), trustedKeys, policy: { unauthenticatedChain: config.policy }, commitments });
    const ctx: TargetCheckContext = {
      discovery: { resolver: options.resolver, era: config.era, ihleType: config.ihleType, timeoutMs: config.timeoutMs, attempts: config.attempts },
      queries,
      verify: (m) => pool.verify(m),
    };
    current = { key, pool, ctx };
    return current;
  };

  const processJob = async (job: Job<QueueJobData>): Promise<QueueJobResult> => {
    const { config, targets } = decodeTargets(job.data, ScanLimits.queueBatchSize);
    log('job-start', { job: job.id, first: targets[0]?.index ?? null, targets: targets.length });
    const { ctx } = await contextFor(config);
    const results = await Promise.all(targets.map(async (t) => ({ index: t.index, report: await checkTarget(t, ctx) })));
    jobs++;
    targetsDone += targets.length;
    log('job-done', { job: job.id });
    return { results };
  };

  const worker = new Worker<QueueJobData, QueueJobResult>(location.queueName, processJob, {
    connection: location.connection,
    concurrency: Math.max(1, Math.ceil(options.concurrency / ScanLimits.queueBatchSize)),
    lockDuration: ScanLimits.queueLockMs,
    stalledInterval: ScanLimits.queueLockMs / 2,
    maxStalledCount: ScanLimits.queueJobAttempts,
  });
  // ioredis retries a lost connection every few hundred ms: log the first error of a burst, not every retry.
  let lastErrorLog = -Infinity;
  worker.on('error', (err) => {
    if (performance.now() - lastErrorLog < ScanLimits.queueConnectTimeoutMs) return;
    lastErrorLog = performance.now();
    log('queue-error', { message: err.message });
  });
  try {
    await connectedWithin(worker.waitUntilReady(), location);
  } catch (err) {
    await worker.close(true).catch(() => undefined);
    throw err;
  }
  log('ready', { queue: location.display });
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  // Graceful stop: finish the jobs in hand (their results reach Redis), take no new ones.
  await worker.close();
  await (current as ScanContext | null)?.pool.close();
  return { jobs, targets: targetsDone };
}

