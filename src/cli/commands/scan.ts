import { createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import type { Material } from '../../core/material/material.js';
import type { DiscoveryOptions } from '../../dns/discovery.js';
import { DEFAULT_IHLE_TYPE, parseIhleTypeCode } from '../../dns/rr-type.js';
import { ScanLimits } from '../../validator/limits.js';
import type { ScanOutcome } from '../../validator/scan-pipeline.js';
import type { InputFormat } from '../../validator/target-reader.js';
import type { OutputFormat } from '../../validator/result-format.js';
import type { InputFingerprint } from '../../validator/resume-state.js';
import { addCommitmentOptions, commitmentCheckerFor, ctBundleInfoFor, ctBundleLine, type CommitmentFlags, type CtBundleInfo } from '../commitment-flags.js';
import { parseTime } from '../duration.js';
import { ExitCode, exitSoonAfterQueueFailure, UsageError } from '../exit.js';
import { publicKeyMaterial, readPublicKeyFile } from '../inputs.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Exit codes of `emblem scan` (beyond ExitCode): an interrupted scan is resumable and says so. */
export const ScanExit = { OK: ExitCode.OK, USAGE: ExitCode.USAGE, INTERRUPTED_INT: 130, INTERRUPTED_TERM: 143 } as const;

interface ScanFlags extends CommitmentFlags {
  input: string;
  format: InputFormat;
  csvColumn?: string;
  resolver?: string;
  doh?: string;
  era: 'jws' | 'cwt' | 'any';
  ihleType: string;
  timeout: string;
  attempts: string;
  qps?: string;
  concurrency: string;
  workers?: string;
  out?: string;
  output: OutputFormat;
  resume?: boolean;
  force?: boolean;
  trustedKey?: string[];
  trustStore?: string[];
  at?: string;
  policy: 'spec' | 'prototype';
  queue?: string;
  json?: boolean;
  progress: boolean;
}

export function intFlag(text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer ${min}..${max}`);
  return n;
}

/** The verification inputs shared by `scan` and `worker` (same flags as `emblem check`). */
async function verificationInputs(opts: ScanFlags): Promise<{ now: Date; trustedKeys: Material[] }> {
  const now = opts.at ? parseTime(opts.at, '--at') : new Date();
  const trustedKeys: Material[] = [];
  for (const f of opts.trustedKey ?? []) trustedKeys.push(publicKeyMaterial(await readPublicKeyFile(f), f));
  const { trustStoreKeys } = await import('../../trust/store.js');
  for (const k of await trustStoreKeys(opts.trustStore ?? [])) trustedKeys.push(publicKeyMaterial(k, 'trust store'));
  return { now, trustedKeys };
}

/** DNS options from the flags; null for ZDNS input, which must not cause a single query. */
async function discoveryFromFlags(opts: ScanFlags): Promise<DiscoveryOptions | null> {
  if (opts.resolver !== undefined && opts.doh !== undefined) throw new UsageError('give either --resolver or --doh, not both');
  const ihleType = parseIhleTypeCode(opts.ihleType);
  if (opts.format === 'zdns') {
    if (opts.resolver !== undefined || opts.doh !== undefined) throw new UsageError('--format zdns sends no queries: --resolver/--doh make no sense with it');
    return null;
  }
  const timeoutMs = intFlag(opts.timeout, '--timeout', 1, 60_000)!;
  const attempts = intFlag(opts.attempts, '--attempts', 1, 5)!;
  const { parseResolverSpec } = await import('../../dns/resolver.js');
  return { resolver: parseResolverSpec(opts.resolver, opts.doh), era: opts.era, ihleType, timeoutMs, attempts };
}

/** Options shared by `scan` and `worker`: what to verify against and how to look names up. */
function addScanVerificationOptions(cmd: Command): Command {
  cmd
    .option('--resolver <ip[:port]|system>', 'recursive resolver or authoritative server to ask (default: system)')
    .option('--doh <url>', 'ask a DNS-over-HTTPS server (RFC 8484) instead, so the local resolver sees nothing')
    .addOption(new Option('--era <era>', 'jws: TXT (DNS-01); cwt: IHLE (DNS-02); any: both').choices(['jws', 'cwt', 'any']).default('any'))
    .option('--ihle-type <code>', 'RR type code of IHLE', String(DEFAULT_IHLE_TYPE))
    .option('--timeout <ms>', 'timeout per query attempt', '3000')
    .option('--attempts <n>', 'attempts per query', '2')
    .option('--trusted-key <file>', 'a key you trust out of band (PEM or JWK); repeatable', collect)
    .option('--trust-store <file|folder>', 'pinned authority keys (emblem trust add); each acts like --trusted-key; repeatable', collect)
    .option('--at <time>', 'verify as of this ISO-8601 time instead of the scan\'s start')
    .addOption(new Option('--policy <policy>', 'as for emblem verify').choices(['spec', 'prototype']).default('spec'))
    .option('--workers <n>', `verification threads (default: one per core; 0 = verify on the main thread)`);
  return addCommitmentOptions(cmd);
}

function printSummary(outcome: ScanOutcome, opts: ScanFlags, toStdout: boolean, bundle: CtBundleInfo | null): void {
  const out = toStdout ? process.stdout : process.stderr;
  const json = { event: 'summary', ...outcome.summary, ...(bundle ? { ctBundle: bundle } : {}), startIndex: outcome.startIndex, writtenThisRun: outcome.written, interrupted: outcome.interrupted, dnsQueries: outcome.dnsQueries, commitmentLookups: outcome.commitmentLookups, seconds: Number(outcome.seconds.toFixed(3)), peakRssBytes: outcome.peakRssBytes };
  if (opts.json || !out.isTTY) {
    out.write(`${JSON.stringify(json)}\n`);
    return;
  }
  const sum = outcome.summary;
  const lines = [`${outcome.interrupted ? 'INTERRUPTED (rerun with --resume to continue)' : 'Scan complete'}: ${sum.targets} targets (${outcome.written} this run) in ${outcome.seconds.toFixed(1)} s${outcome.dnsQueries === null ? '' : `, ${outcome.dnsQueries} DNS queries`}`];
  const counts = (o: Record<string, number | undefined>) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
  lines.push(`  status: ${counts(sum.byStatus)}`);
  lines.push(`  level (valid emblems): ${counts(sum.byLevel)}`);
  const more = sum.distinctTruncated ? '+' : '';
  lines.push(`  distinct issuers: ${sum.distinctIssuers}${more}; distinct endorsing authorities: ${sum.distinctAuthorities}${more}`);
  if (sum.byStatus.indeterminate) lines.push(`  indeterminate: ${sum.byStatus.indeterminate} targets whose root-key commitment could not be checked (not invalid; rerun online, with --log-list, or with --ct-bundle)`);
  if (bundle) lines.push(`  ${ctBundleLine(bundle)}`);
  out.write(`${lines.join('\n')}\n`);
}

export function registerScan(program: Command): void {
  const cmd = program
    .command('scan')
    .description('check a list of names (millions) for emblems: bounded, resumable, covert; one result per target')
    .option('--input <file|->', 'targets: a file or - for standard input', '-')
    .addOption(new Option('--format <format>', 'names: one name per line; zdns: ZDNS JSON lines with TXT answers (no DNS query is sent); csv: a name column').choices(['names', 'zdns', 'csv']).default('names'))
    .option('--csv-column <name|n>', 'CSV column holding the name (default: a header named name/domain/fqdn/host/target, else column 0)')
    .option('--out <file>', 'write results to FILE (required for --resume); default standard output')
    .addOption(new Option('--output <format>', 'jsonl: the `emblem check --json` object with "index"; csv: index,target,status,level,issuer,endorsers,error').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--resume', 'continue an interrupted scan after the last result in --out (same input and flags)')
    .option('--force', 'overwrite an existing --out file instead of refusing')
    .option('--qps <n>', 'at most N DNS queries per second (default: unlimited; set one for any real resolver)')
    .option('--concurrency <n>', `targets in flight at once (1..${ScanLimits.maxConcurrency})`, String(ScanLimits.defaultConcurrency))
    .option('--queue <redis-url>', 'distributed mode: enqueue targets in Redis (BullMQ) and collect results from `emblem worker`s')
    .option('--json', 'print the summary as one JSON object')
    .option('--no-progress', 'no progress bar / progress lines on stderr');
  addScanVerificationOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Results are written in input order, one per target; each carries its input index ("index"). Progress goes to
stderr (a bar on a terminal, JSON lines otherwise); the summary goes to stdout when --out is given, else stderr.

Who sees what (see docs/scan.md): names/csv input: the resolver (or DoH server) and the zones' name servers see
each name queried; the targets themselves are never contacted. zdns input: nobody, no packet is sent.

Exit codes: 0 scan complete; 2 usage error, unreadable input or unwritable output; 130/143 interrupted by
SIGINT/SIGTERM (what was written is kept; rerun with --resume).

Examples:
  emblem scan --input names.txt --resolver 127.0.0.1:5353 --qps 2000 --out results.jsonl --skip-commitment-check
  emblem scan --input names.txt --resolver 127.0.0.1:5353 --out results.jsonl --resume --skip-commitment-check
  zdns TXT --input-file names.txt | emblem scan --format zdns --output csv --out results.csv --skip-commitment-check
  emblem scan --input names.txt --queue redis://127.0.0.1:6379/0 --out results.jsonl --skip-commitment-check`,
  );
  cmd.action(async (opts: ScanFlags) => {
    const { runScan } = await import('../../validator/scan-pipeline.js');
    const { fingerprintInput } = await import('../../validator/resume-state.js');
    const concurrency = intFlag(opts.concurrency, '--concurrency', 1, ScanLimits.maxConcurrency)!;
    const qps = intFlag(opts.qps, '--qps', 1, ScanLimits.maxQps) ?? null;
    const workers = intFlag(opts.workers, '--workers', 0, ScanLimits.maxWorkers) ?? availableParallelism();
    const discovery = await discoveryFromFlags(opts);
    if (opts.queue && (opts.resolver !== undefined || opts.doh !== undefined)) throw new UsageError('with --queue each `emblem worker` uses its own --resolver/--doh');
    if (opts.resume && !opts.out) throw new UsageError('--resume needs --out FILE');
    if (opts.resume && opts.input === '-') throw new UsageError('--resume needs --input FILE (standard input cannot be read again)');
    if (opts.out && !opts.resume && !opts.force) {
      const exists = await access(opts.out).then(() => true, () => false);
      if (exists) throw new UsageError(`${opts.out} exists: pass --resume to continue that scan or --force to start over`);
    }
    let inputBytes: number | undefined;
    if (opts.input !== '-') {
      try {
        inputBytes = (await stat(opts.input)).size;
      } catch (err) {
        throw new UsageError(`cannot read ${opts.input}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    // The output records which input it is the scan of, so that --resume can refuse another one.
    let inputFingerprint: InputFingerprint | null | undefined;
    if (opts.out) {
      try {
        inputFingerprint = opts.input === '-' ? null : await fingerprintInput(opts.input, opts.format, opts.csvColumn);
      } catch (err) {
        throw new UsageError(`cannot read ${opts.input}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    const { now, trustedKeys } = await verificationInputs(opts);
    const commitments = await commitmentCheckerFor(opts);
    const ihleType = parseIhleTypeCode(opts.ihleType);
    const input = opts.input === '-' ? process.stdin : createReadStream(opts.input, { highWaterMark: 256 * 1024 });

    const controller = new AbortController();
    let signalled: NodeJS.Signals | null = null;
    const onSignal = (sig: NodeJS.Signals) => {
      // First signal: stop reading, let in-flight targets finish and be written. Second: leave now (resumable).
      if (signalled) process.exit(sig === 'SIGINT' ? ScanExit.INTERRUPTED_INT : ScanExit.INTERRUPTED_TERM);
      signalled = sig;
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    // What both runners take: where targets come from, where results go, progress and interruption.
    const shared = {
      input,
      inputBytes,
      format: opts.format,
      csvColumn: opts.csvColumn,
      output: opts.out ? { path: opts.out } : { stream: process.stdout },
      outputFormat: opts.output,
      resume: opts.resume === true,
      inputFingerprint,
      ihleType,
      progress: opts.progress ? process.stderr : undefined,
      signal: controller.signal,
    };
    let outcome: ScanOutcome;
    if (opts.queue) {
      const { runQueueScan } = await import('../../validator/distributed/queue-scan.js');
      outcome = await runQueueScan({
        queueUrl: opts.queue,
        config: {
          now: now.toISOString(),
          policy: opts.policy,
          trustedKeys: trustedKeys.map((k) => (k.kind === 'jwk' ? k.jwk : null)).filter((k) => k !== null),
          era: opts.era,
          ihleType,
          timeoutMs: discovery?.timeoutMs ?? 3000,
          attempts: discovery?.attempts ?? 2,
          skipCommitmentCheck: opts.skipCommitmentCheck === true,
        },
        ...shared,
      }).catch((err: unknown) => {
        exitSoonAfterQueueFailure(err);
        throw err;
      });
    } else {
      outcome = await runScan({
        ...shared,
        discovery,
        qps,
        concurrency,
        workers,
        now,
        trustedKeys,
        policy: { unauthenticatedChain: opts.policy },
        commitments,
      });
    }
    if (opts.input !== '-') (input as ReturnType<typeof createReadStream>).destroy();
    printSummary(outcome, opts, opts.out !== undefined, await ctBundleInfoFor(opts, now));
    process.exitCode = outcome.interrupted ? (signalled === 'SIGTERM' ? ScanExit.INTERRUPTED_TERM : ScanExit.INTERRUPTED_INT) : ScanExit.OK;
    // Everything is written and closed; a client library's reconnect timer must not keep the process around.
    setTimeout(() => process.exit(), 200).unref();
  });
}
