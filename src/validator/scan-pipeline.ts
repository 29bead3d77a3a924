import type { Readable, Writable } from 'node:stream';
import { reportError } from '../core/errors.js';
import type { Material } from '../core/material/material.js';
import { skipCommitmentCheck, type CommitmentChecker } from '../core/verify/commitment.js';
import type { VerificationPolicy } from '../core/verify/verify-token-set.js';
import type { DiscoveryOptions } from '../dns/discovery.js';
import { CachingCommitmentChecker } from './commitment-cache.js';
import { ScanLimits } from './limits.js';
import { RateLimiter } from './rate-limiter.js';
import { digestOf, formatResult, type OutputFormat } from './result-format.js';
import { ResultCollector } from './result-collector.js';
import { openScanOutput } from './scan-output.js';
import type { InputFingerprint } from './resume-state.js';
import type { ScanSummaryJson } from './scan-summary.js';
import { checkTarget } from './target-check.js';
import { readTargets, type InputFormat } from './target-reader.js';
import { VerificationPool } from './verify-pool.js';

/** What every scan runner (local pipeline, Redis queue) takes: targets in, results out, progress, interruption. */
export interface ScanIoOptions {
  input: Readable | AsyncIterable<Uint8Array | string>;
  /** Size of the input in bytes when known (a file), to estimate the number of targets before the end is read. */
  inputBytes?: number;
  format: InputFormat;
  csvColumn?: string;
  /** A file path (appended to; required for resume) or a stream (standard output). */
  output: { path: string } | { stream: Writable };
  outputFormat: OutputFormat;
  resume: boolean;
  /** Fingerprint of the input (null: standard input), recorded next to a file output and checked by `resume`. */
  inputFingerprint?: InputFingerprint | null;
  ihleType: number;
  /** Where progress goes (stderr); none in library use. */
  progress?: Writable & { isTTY?: boolean };
  /** Aborting stops reading input; targets in flight finish and are written, then the scan returns. */
  signal?: AbortSignal;
}

export interface ScanOptions extends ScanIoOptions {
  discovery: DiscoveryOptions | null;
  qps: number | null;
  concurrency: number;
  workers: number;
  now: Date;
  trustedKeys: Material[];
  policy: VerificationPolicy;
  commitments: CommitmentChecker;
}

export interface ScanOutcome {
  summary: ScanSummaryJson;
  /** Index where this run started (0, or the resume point). */
  startIndex: number;
  /** Results this run wrote. */
  written: number;
  interrupted: boolean;
  /** DNS questions this process asked (a lookup that failed early counts its usual 1-2; null in distributed mode:
   *  the workers ask). */
  dnsQueries: number | null;
  /** CT lookups actually made (the rest came from the commitment cache). */
  commitmentLookups: number;
  seconds: number;
  /** Peak resident set size of this process (all threads), bytes. */
  peakRssBytes: number;
}

/**
 * `emblem scan`: reads targets as a stream, checks up to `concurrency` at once (DNS on this thread, signature
 * checks on worker threads), and writes one result per target in input order. Memory is bounded by
 * `concurrency`, the reorder window and the output buffer, never by the input size: the input is pulled only
 * when a slot is free.
 */
export async function runScan(options: ScanOptions): Promise<ScanOutcome> {
  const started = performance.now();
  const { sink, startIndex, summary } = await openScanOutput(options.output, options.outputFormat, options.resume, options.inputFingerprint);

  const commitments = new CachingCommitmentChecker(options.commitments);
  const pool = new VerificationPool({
    workers: options.workers,
    now: options.now,
    trustedKeys: options.trustedKeys,
    policy: options.policy,
    // Skipped commitments stay recognisable as such, so workers answer "skipped" without a round trip.
    commitments: options.commitments === skipCommitmentCheck ? skipCommitmentCheck : commitments,
  });
  const queries = options.qps ? new RateLimiter(options.qps) : null;
  let dnsQueries = 0;
  const collector = new ResultCollector(sink, startIndex, summary, options.progress, options.inputBytes);
  const writer = collector.writer;

  // A counting semaphore: `inFlight` checks run at once; a finished one wakes the reader.
  let inFlight = 0;
  let wake: (() => void) | null = null;
  const slotFreed = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const ctx = {
    discovery: options.discovery,
    queries,
    verify: (m: Material[]) => pool.verify(m),
    onQueries: (n: number) => (dnsQueries += n),
  };
  let interrupted = false;
  try {
    const targets = readTargets(options.input, {
      format: options.format,
      skip: startIndex,
      ihleType: options.ihleType,
      csvColumn: options.csvColumn,
      onLine: collector.inputLine,
    });
    for await (const target of targets) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      while (inFlight >= options.concurrency || writer.waitingCount >= ScanLimits.maxReorderWindow) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      await writer.ready();
      inFlight++;
      void checkTarget(target, ctx)
        .catch((err: unknown) => ({ target: target.name, status: 'error' as const, level: null, sets: [], discovery: null, errors: [reportError(err)] }))
        .then((report) => {
          const result = { index: target.index, report };
          collector.finished(target.index, digestOf(result));
          try {
            writer.add(target.index, formatResult(result, options.outputFormat));
          } catch {
            // The sink failed (disk full...): writer.ready() rethrows it on the reading side, which ends the scan.
          }
          inFlight--;
          slotFreed();
        });
    }
    if (!interrupted) collector.inputEnded();
    while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  } finally {
    await writer.close().finally(() => pool.close());
    collector.stopProgress();
  }
  return {
    summary: summary.toJSON(),
    startIndex,
    written: collector.written,
    interrupted,
    dnsQueries,
    commitmentLookups: commitments.lookups,
    seconds: (performance.now() - started) / 1000,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}
