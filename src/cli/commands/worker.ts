import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { ScanLimits } from '../../validator/limits.js';
import { addCommitmentOptions, commitmentCheckerFor, type CommitmentFlags } from '../commitment-flags.js';
import { ExitCode, exitSoonAfterQueueFailure, UsageError } from '../exit.js';
import { intFlag } from './scan.js';

interface WorkerFlags extends CommitmentFlags {
  queue: string;
  resolver?: string;
  doh?: string;
  concurrency: string;
  qps?: string;
  workers?: string;
}

export function registerWorker(program: Command): void {
  const cmd = program
    .command('worker')
    .option('--json', 'log lines are JSON already; accepted on every command')
    .description('process targets of a distributed `emblem scan --queue` (BullMQ on Redis); run any number, anywhere')
    .requiredOption('--queue <redis-url>', 'the queue: redis://[user:password@]host:port/db[?queue=name] (same as the scan\'s)')
    .option('--resolver <ip[:port]|system>', 'resolver this worker asks (default: system)')
    .option('--doh <url>', 'ask a DNS-over-HTTPS server instead')
    .option('--concurrency <n>', `targets in flight in this worker (1..${ScanLimits.maxConcurrency})`, String(ScanLimits.defaultConcurrency))
    .option('--qps <n>', 'at most N DNS queries per second from this worker')
    .option('--workers <n>', 'verification threads (default: one per core)');
  addCommitmentOptions(cmd);
  cmd.addHelpText(
    'after',
    `
The scan decides what is verified (--at, --trusted-key, --policy, --era, --skip-commitment-check travel with each
job); the worker decides how it looks names up (--resolver/--doh, --qps) and how CT is checked (--log-list).
A worker that dies loses nothing: its job is handed to another worker ${ScanLimits.queueLockMs / 1000}-${(ScanLimits.queueLockMs * 1.5) / 1000} s later.
Logs JSON lines on stderr (ready, job-start, job-done). SIGINT/SIGTERM: finish the jobs in hand, then exit 0.

Exit codes: 0 stopped by a signal after finishing its jobs; 2 usage error or Redis unreachable at start.

Example:
  emblem worker --queue redis://10.0.0.5:6379/0 --resolver 127.0.0.1 --qps 2000`,
  );
  cmd.action(async (opts: WorkerFlags) => {
    const { parseResolverSpec } = await import('../../dns/resolver.js');
    const { runQueueWorker } = await import('../../validator/distributed/queue-worker.js');
    if (opts.resolver !== undefined && opts.doh !== undefined) throw new UsageError('give either --resolver or --doh, not both');
    const concurrency = intFlag(opts.concurrency, '--concurrency', 1, ScanLimits.maxConcurrency)!;
    const qps = intFlag(opts.qps, '--qps', 1, ScanLimits.maxQps) ?? null;
    const workers = intFlag(opts.workers, '--workers', 0, ScanLimits.maxWorkers) ?? availableParallelism();
    const resolver = parseResolverSpec(opts.resolver, opts.doh);
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const done = await runQueueWorker({
      queueUrl: opts.queue,
      resolver,
      concurrency,
      qps,
      workers,
      commitments: () => commitmentCheckerFor(opts),
      log: process.stderr,
      signal: controller.signal,
    }).catch((err: unknown) => {
      exitSoonAfterQueueFailure(err);
      throw err;
    });
    process.stderr.write(`${JSON.stringify({ event: 'stopped', ...done })}\n`);
    process.exitCode = ExitCode.OK;
    setTimeout(() => process.exit(), 200).unref();
  });
}
