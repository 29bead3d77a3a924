/**
 * Observation jobs on BullMQ workers (issue 12: "beyond that, observation jobs run on the existing BullMQ workers").
 *
 * The coordinator (`emblem observe` with `queue:` in its config) still reads the targets, runs the incident machine,
 * writes the store and appends to the evidence log: it is the log's single writer, so the evidence stays one
 * consistent tree. Only the DNS discovery and verification move: each batch's (target, vantage point) pairs go to
 * Redis as jobs of ObserveLimits.queueJobObservations, and `emblem observe --worker` processes (any number, on any
 * machine that can reach the vantage points) return the evidence records. The coordinator recomputes each record's
 * summary itself (summaryFromRecord), so incidents follow from exactly the bytes that go into the evidence log.
 *
 * Nothing is lost silently: a job whose worker dies is handed to another once its lock expires (BullMQ stalled
 * jobs, at most ObserveLimits.queueJobAttempts times); a job that fails or has no result within jobTimeoutSeconds
 * becomes one error observation per pair (OBSERVE_JOB_FAILED, OBSERVE_JOB_TIMEOUT, OBSERVE_JOB_RESULT_INVALID), in
 * the evidence log like a resolver timeout, and never an incident by itself (incidents.ts ignores errors).
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { parseObservationRecord } from '../evidence/replay.js';
import { reportError } from '../core/errors.js';
import type { ObservationRecord } from '../evidence/observation-record.js';
import { closeAfterFailedConnect, connectedWithin, parseQueueUrl, type QueueLocation } from '../validator/distributed/queue-connection.js';
import type { ObserveConfig, ObserveQueueConfig } from './config.js';
import { ObserveLimits } from './limits.js';
import { errorObservation, observeTarget, summaryFromRecord, type Observation, type ObservationContext, type VantagePoint } from './observation.js';

export const ObserveQueueErrorCodes = {
  /** The job failed on every attempt (its workers died or threw). */
  OBSERVE_JOB_FAILED: 'OBSERVE_JOB_FAILED',
  /** No result within queue.jobTimeoutSeconds (no worker running, or all of them too slow). */
  OBSERVE_JOB_TIMEOUT: 'OBSERVE_JOB_TIMEOUT',
  /** The job's result did not hold a well-formed record for this pair. */
  OBSERVE_JOB_RESULT_INVALID: 'OBSERVE_JOB_RESULT_INVALID',
  /** The worker's config has no vantage point of that name (coordinator and workers must share vantagePoints). */
  OBSERVE_VANTAGE_UNKNOWN: 'OBSERVE_VANTAGE_UNKNOWN',
} as const;

/** One observation to make: the target, through the named vantage point, verified as of `time`. */
export interface ObservationTask {
  target: string;
  vantagePoint: string;
  time: string;
}

export interface ObserveJobData {
  v: 1;
  tasks: ObservationTask[];
}

export interface ObserveJobResult {
  records: ObservationRecord[];
}

/** Makes observations somewhere else; returns one per task, in task order, never throws for a single task. */
export interface RemoteObserver {
  observe(tasks: readonly ObservationTask[]): Promise<Array<{ observation: Observation; seconds: number }>>;
  close(): Promise<void>;
}

export function queueLocation(q: ObserveQueueConfig): QueueLocation {
  return parseQueueUrl(`${q.redis}?queue=${encodeURIComponent(q.name)}`);
}

/** The job data as read back from Redis: tasks with the expected shape, or null (the whole job is refused). */
export function decodeJobData(data: unknown): ObservationTask[] | null {
  const d = data as Partial<ObserveJobData> | null;
  if (!d || typeof d !== 'object' || d.v !== 1 || !Array.isArray(d.tasks) || d.tasks.length > ObserveLimits.queueJobObservations) return null;
  const ok = d.tasks.every(
    (t) =>
      t && typeof t === 'object' &&
      typeof t.target === 'string' && t.target.length > 0 && t.target.length <= ObserveLimits.maxTargetLength &&
      typeof t.vantagePoint === 'string' && t.vantagePoint.length <= 64 &&
      typeof t.time === 'string' && !Number.isNaN(Date.parse(t.time)),
  );
  return ok ? d.tasks : null;
}

/** A job's result for one task: the record if it is well-formed and is about this very task, else an error. */
export function decodeResultRecord(value: unknown, i: number, task: ObservationTask): Observation | { error: string } {
  const records = (value as Partial<ObserveJobResult> | null)?.records;
  if (!Array.isArray(records)) return { error: 'the job returned no records' };
  const raw = records[i];
  let record: ObservationRecord;
  try {
    record = parseObservationRecord(new TextEncoder().encode(JSON.stringify(raw ?? null)));
  } catch (err) {
    return { error: `record ${i}: ${reportError(err).message}` };
  }
  if (record.target !== task.target || record.vantagePoint !== task.vantagePoint || record.time !== task.time) {
    return { error: `record ${i} is about ${record.target} via ${record.vantagePoint} at ${record.time}, not the task's` };
  }
  try {
    return { record, summary: summaryFromRecord(record) };
  } catch (err) {
    return { error: `record ${i}: ${(err as Error).message}` };
  }
}

/** The coordinator's side: enqueues a batch's observations and waits for their records. */
export class QueueObserver implements RemoteObserver {
  private readonly run = randomUUID().slice(0, 8);
  private seq = 0;

  private constructor(
    private readonly config: ObserveQueueConfig,
    private readonly vantage: Map<string, VantagePoint>,
    private readonly queue: Queue<ObserveJobData, ObserveJobResult>,
    private readonly events: QueueEvents,
  ) {}

  /** Connects (QUEUE_UNREACHABLE after ScanLimits.queueConnectTimeoutMs) and removes a previous run's stale jobs.
   *  After a failure ioredis may keep retrying in the background: the caller exits (the CLI does). */
  static async open(config: ObserveQueueConfig, vantagePoints: readonly VantagePoint[]): Promise<QueueObserver> {
    const location = queueLocation(config);
    const queue = new Queue<ObserveJobData, ObserveJobResult>(location.queueName, { connection: location.connection });
    const events = new QueueEvents(location.queueName, { connection: location.connection });
    try {
      await connectedWithin(Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), location);
      // A queue serves one coordinator: jobs left by a crashed run belong to windows that are over.
      await queue.obliterate({ force: true });
    } catch (err) {
      await closeAfterFailedConnect([queue, events]);
      throw err;
    }
    // Each job waited for adds a 'closing' listener to the queue: a batch's jobs at most.
    queue.setMaxListeners(Math.ceil((ObserveLimits.batchSize * ObserveLimits.maxVantagePoints) / ObserveLimits.queueJobObservations) + 10);
    return new QueueObserver(config, new Map(vantagePoints.map((v) => [v.name, v])), queue, events);
  }

  async observe(tasks: readonly ObservationTask[]): Promise<Array<{ observation: Observation; seconds: number }>> {
    const chunks: ObservationTask[][] = [];
    for (let i = 0; i < tasks.length; i += ObserveLimits.queueJobObservations) chunks.push(tasks.slice(i, i + ObserveLimits.queueJobObservations));
    const began = performance.now();
    const jobs = await this.queue.addBulk(
      chunks.map((chunk) => ({
        name: 'observe',
        data: { v: 1 as const, tasks: chunk },
        opts: {
          jobId: `${this.run}-${this.seq++}`,
          attempts: ObserveLimits.queueJobAttempts,
          backoff: { type: 'fixed', delay: 500 },
          removeOnComplete: { count: ObserveLimits.queueKeptJobs },
          removeOnFail: { count: ObserveLimits.queueKeptJobs },
        },
      })),
    );
    const results = await Promise.all(
      jobs.map(async (job, j) => {
        const chunk = chunks[j]!;
        let value: unknown = null;
        let failure: { code: string; message: string } | null = null;
        try {
          value = await job.waitUntilFinished(this.events, this.config.jobTimeoutSeconds * 1000);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          failure = /timed out before finishing/.test(message)
            ? { code: ObserveQueueErrorCodes.OBSERVE_JOB_TIMEOUT, message: `job ${job.id}: no result within ${this.config.jobTimeoutSeconds} s` }
            : { code: ObserveQueueErrorCodes.OBSERVE_JOB_FAILED, message: `job ${job.id}: ${message}` };
          // A late result must not be taken for a later window's; a job a worker still holds cannot be removed
          // (it stays until ObserveLimits.queueKeptJobs newer jobs push it out).
          await job.remove().catch(() => undefined);
        }
        const seconds = (performance.now() - began) / 1000;
        return chunk.map((task, i) => {
          const vp = this.vantage.get(task.vantagePoint) ?? { name: task.vantagePoint, resolver: '' };
          if (failure) return { observation: errorObservation(task.target, vp, new Date(task.time), failure.code, failure.message), seconds };
          const got = decodeResultRecord(value, i, task);
          if ('error' in got) return { observation: errorObservation(task.target, vp, new Date(task.time), ObserveQueueErrorCodes.OBSERVE_JOB_RESULT_INVALID, `job ${job.id}: ${got.error}`), seconds };
          return { observation: got, seconds };
        });
      }),
    );
    return results.flat();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }
}

export interface ObserveWorkerOptions {
  config: ObserveConfig & { queue: ObserveQueueConfig };
  ctx: ObservationContext;
  log: (line: Record<string, unknown>) => void;
  signal: AbortSignal;
}

/**
 * `emblem observe --worker`: takes observation jobs and makes each observation through the named vantage point of
 * its own config, exactly as the in-process service does, returning the evidence records. It writes nothing
 * anywhere else, so a job done twice (a worker presumed dead that was only slow) is harmless: the coordinator takes
 * one result per job.
 */
export async function runObserveWorker(o: ObserveWorkerOptions): Promise<{ jobs: number; observations: number }> {
  const location = queueLocation(o.config.queue);
  const vantage = new Map(o.config.vantagePoints.map((v) => [v.name, { name: v.name, resolver: v.resolver, spec: v.spec } satisfies VantagePoint]));
  let jobs = 0;
  let observations = 0;
  const process = async (job: Job<ObserveJobData, ObserveJobResult>): Promise<ObserveJobResult> => {
    const tasks = decodeJobData(job.data);
    if (!tasks) throw new Error('job data is not an emblem observe batch');
    o.log({ event: 'job-start', job: job.id, observations: tasks.length });
    const records = await Promise.all(
      tasks.map(async (t) => {
        const vp = vantage.get(t.vantagePoint);
        const at = new Date(t.time);
        if (!vp) return errorObservation(t.target, { name: t.vantagePoint, resolver: '' }, at, ObserveQueueErrorCodes.OBSERVE_VANTAGE_UNKNOWN, `this worker's config has no vantage point ${JSON.stringify(t.vantagePoint)}`).record;
        return (await observeTarget(t.target, vp, at, o.ctx)).record;
      }),
    );
    jobs++;
    observations += records.length;
    o.log({ event: 'job-done', job: job.id, observations: records.length });
    return { records };
  };
  const lockMs = o.config.queue.lockSeconds * 1000;
  const worker = new Worker<ObserveJobData, ObserveJobResult>(location.queueName, process, {
    connection: location.connection,
    concurrency: Math.max(1, Math.ceil(o.config.concurrency / ObserveLimits.queueJobObservations)),
    lockDuration: lockMs,
    stalledInterval: Math.max(500, lockMs / 2),
    maxStalledCount: ObserveLimits.queueJobAttempts,
  });
  let lastError = -Infinity;
  worker.on('error', (err) => {
    // ioredis retries a lost connection every few hundred ms: log the first error of a burst.
    if (performance.now() - lastError < 10_000) return;
    lastError = performance.now();
    o.log({ event: 'queue-error', message: err.message });
  });
  try {
    await connectedWithin(worker.waitUntilReady(), location);
  } catch (err) {
    await worker.close(true).catch(() => undefined);
    throw err;
  }
  o.log({ event: 'worker-ready', queue: location.display, vantagePoints: [...vantage.keys()] });
  await new Promise<void>((resolve) => {
    if (o.signal.aborted) resolve();
    o.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  // Graceful stop: the jobs in hand finish (their results reach Redis); no new ones are taken.
  await worker.close();
  return { jobs, observations };
}
