import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { ScanLimits } from '../limits.js';
import { ScanErrorCodes } from '../errors.js';
import { digestOf, formatResult } from '../result-format.js';
import { ResultCollector } from '../result-collector.js';
import type { ScanIoOptions, ScanOutcome } from '../scan-pipeline.js';
import { openScanOutput } from '../scan-output.js';
import type { ScanTarget } from '../scan-target.js';
import { readTargets } from '../target-reader.js';
import { closeAfterFailedConnect, connectedWithin, parseQueueUrl } from './queue-connection.js';
import { decodeJobResult, encodeTarget, type QueueJobData, type QueueScanConfig } from './queue-job.js';

export interface QueueScanOptions extends ScanIoOptions {
  queueUrl: string;
  config: QueueScanConfig;
}

interface Enqueued {
  job: Job<QueueJobData>;
  first: number;
  targets: ScanTarget[];
}

/**
 * The coordinator of a distributed scan: enqueues the targets in batches (BullMQ jobs, at most
 * ScanLimits.maxQueuedJobs outstanding so Redis memory stays bounded) and collects the results job by job in input
 * order. Workers (`emblem worker`) may die at any time: BullMQ hands a job whose lock expired to another worker
 * (at-least-once), and the collector takes exactly one result per index from each job's result, in job order (the
 * ordered writer also drops any index it has seen), so the output has no gaps and no duplicates. A queue serves one scan at a time: it is emptied at start.
 */
export async function runQueueScan(options: QueueScanOptions): Promise<ScanOutcome> {
  const started = performance.now();
  const location = parseQueueUrl(options.queueUrl);
  const { sink, startIndex, summary } = await openScanOutput(options.output, options.outputFormat, options.resume, options.inputFingerprint);

  const queue = new Queue<QueueJobData>(location.queueName, { connection: location.connection });
  const events = new QueueEvents(location.queueName, { connection: location.connection });
  try {
    await connectedWithin(Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), location);
  } catch (err) {
    await sink.close().catch(() => undefined);
    await closeAfterFailedConnect([queue, events]);
    throw err;
  }
  // Jobs of an earlier (interrupted) run are stale: --resume re-enqueues from the resume point.
  await queue.obliterate({ force: true });
  const runId = randomUUID().slice(0, 8);

  const collector = new ResultCollector(sink, startIndex, summary, options.progress, options.inputBytes);
  const writer = collector.writer;

  const pending: Enqueued[] = [];
  let producerDone = false;
  let wakeCollector: (() => void) | null = null;
  let wakeProducer: (() => void) | null = null;
  const aborted = new Promise<'aborted'>((resolve) => {
    if (options.signal?.aborted) resolve('aborted');
    options.signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  const notify = (which: 'collector' | 'producer') => {
    const w = which === 'collector' ? wakeCollector : wakeProducer;
    if (which === 'collector') wakeCollector = null;
    else wakeProducer = null;
    w?.();
  };

  const produce = async () => {
    let batch: ScanTarget[] = [];
    const enqueue = async () => {
      while (pending.length >= ScanLimits.maxQueuedJobs && !options.signal?.aborted) await new Promise<void>((r) => (wakeProducer = r));
      if (options.signal?.aborted) return;
      const targets = batch;
      batch = [];
      const first = targets[0]!.index;
      const job = await queue.add(
        'targets',
        { config: options.config, first, targets: targets.map(encodeTarget) },
        { jobId: `${runId}-${first}`, attempts: ScanLimits.queueJobAttempts, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false },
      );
      pending.push({ job, first, targets });
      notify('collector');
    };
    for await (const target of readTargets(options.input, { format: options.format, skip: startIndex, ihleType: options.ihleType, csvColumn: options.csvColumn, onLine: collector.inputLine })) {
      if (options.signal?.aborted) break;
      // A batch is consecutive indexes (jobs are collected in order and each result is checked against its range).
      batch.push(target);
      if (batch.length >= ScanLimits.queueBatchSize) await enqueue();
    }
    if (!options.signal?.aborted) collector.inputEnded();
    if (batch.length > 0 && !options.signal?.aborted) await enqueue();
    producerDone = true;
    notify('collector');
  };

  const collect = async () => {
    for (;;) {
      if (options.signal?.aborted) return;
      const next = pending[0];
      if (!next) {
        if (producerDone) return;
        await Promise.race([new Promise<void>((r) => (wakeCollector = r)), aborted]);
        continue;
      }
      let value: unknown = null;
      let failure: string | null = null;
      const finished = next.job.waitUntilFinished(events).then(
        (v: unknown) => (value = v),
        (err: unknown) => (failure = err instanceof Error ? err.message : String(err)),
      );
      if ((await Promise.race([finished.then(() => 'done' as const), aborted])) === 'aborted') return;
      const reports = decodeJobResult(value, next.first, next.targets.length);
      for (const target of next.targets) {
        const report = reports.get(target.index) ?? {
          target: target.name,
          status: 'error' as const,
          level: null,
          sets: [],
          discovery: null,
          errors: [{ code: ScanErrorCodes.QUEUE_JOB_FAILED, message: failure ?? 'no valid result for this target in the job' }],
        };
        const result = { index: target.index, report };
        collector.finished(target.index, digestOf(result));
        writer.add(target.index, formatResult(result, options.outputFormat));
      }
      await writer.ready();
      pending.shift();
      notify('producer');
      await next.job.remove().catch(() => undefined);
    }
  };

  let interrupted = false;
  try {
    await Promise.all([produce(), collect()]);
    interrupted = options.signal?.aborted === true;
  } finally {
    await writer.close();
    collector.stopProgress();
    await events.close();
    await queue.close();
  }
  return {
    summary: summary.toJSON(),
    startIndex,
    written: collector.written,
    interrupted,
    dnsQueries: null,
    commitmentLookups: 0,
    seconds: (performance.now() - started) / 1000,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}
