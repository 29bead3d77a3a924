import type { Command } from 'commander';
import { ExitCode, UsageError } from '../exit.js';

interface ObserveFlags {
  config: string;
  json?: boolean;
  startAt?: string;
  windows?: string;
  windowSeconds?: string;
  worker?: boolean;
}

interface IncidentsFlags {
  config: string;
  json?: boolean;
  open?: boolean;
  target?: string;
}

function positiveInt(text: string | undefined, flag: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} must be an integer 1..${max}`);
  return n;
}

export function registerObserve(program: Command): void {
  const observe = program
    .command('observe')
    .description('watch marked assets through several vantage points, keep evidence, and raise incidents (foreground service)')
    // Not requiredOption: commander gives options after a subcommand name to the parent, so `observe incidents
    // --config F` arrives here; each action checks it.
    .option('--config <file>', 'observe.yaml (see docs/observatory.md); required')
    .option('--json', 'output is JSON lines already; accepted for symmetry')
    // Test and replay aids: simulated time, so no test reads the wall clock or waits for real windows.
    .option('--start-at <time>', 'simulate time from this ISO-8601 instant: windows run back to back without sleeping')
    .option('--windows <n>', 'stop after N windows (default: run until SIGTERM)')
    .option('--window-seconds <s>', 'override windowSeconds from the config')
    .option('--worker', 'be a queue worker: make the observation jobs of the config\'s "queue" (needs queue: in the config)')
    .addHelpText(
      'after',
      `
Runs in the foreground and writes one JSON object per line on stdout: "started", one "window" line per window,
"incident-opened"/"incident-closed" lines, "final-checkpoint" on shutdown. Progress and errors go to stderr.
SIGTERM/SIGINT: the batch in flight finishes, a final evidence checkpoint is published, then it exits 0.
Who sees the queries: only the vantage points' resolvers (and the zones' name servers behind them). In validator
mode nothing is ever sent to a target; owner mode may add TCP reachability probes (config "probes").
Exit codes: 0 stopped cleanly; 1 the service stopped on an error (e.g. the database went away: nothing is
silently dropped); 2 bad usage or an invalid config (OBSERVE_CONFIG_INVALID names the field).

With "queue: {redis, name}" in the config, the service enqueues each batch's observations in Redis and
"emblem observe --worker --config FILE" processes (one or more, same vantagePoints and trust settings) make them;
the service keeps the incidents, the store and the evidence log. A worker logs JSON lines ("worker-ready",
"job-start", "job-done", "worker-stopped") and stops on SIGTERM after the jobs in hand (exit 0; 1 if the queue is
unreachable).

Subcommands: emblem observe incidents --config FILE [--json] [--open] [--target NAME]`,
    )
    .action(async (opts: ObserveFlags) => {
      const { loadObserveConfig } = await import('../../observatory/config.js');
      const { ObserveService, simulatedClock, wallClock, configTargets } = await import('../../observatory/service.js');
      const runtime = await import('../../observatory/runtime.js');
      const { verifyMaterial } = await import('../../core/verify/index.js');
      const { commitmentCheckerFromOptions } = await import('../commitment-options.js');
      const { parseTime } = await import('../duration.js');

      if (opts.config === undefined) throw new UsageError("required option '--config <file>' not specified");
      const config = await loadObserveConfig(opts.config);
      const windowSeconds = positiveInt(opts.windowSeconds, '--window-seconds', 86_400);
      if (windowSeconds !== undefined) config.windowSeconds = windowSeconds;
      const windows = positiveInt(opts.windows, '--windows', 1_000_000);
      const simulated = opts.startAt !== undefined ? parseTime(opts.startAt, '--start-at') : undefined;
      const clock = simulated ? simulatedClock(simulated) : wallClock;
      const log = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: clock.now().toISOString(), ...line })}\n`);

      const trusted = await runtime.trustedMaterial(config);
      const commitments = await commitmentCheckerFromOptions({ skipCommitmentCheck: config.skipCommitmentCheck, ...(config.logList ? { logList: [config.logList] } : {}) });
      const trustedJwks = trusted.map((m) => (m.kind === 'jwk' ? m.jwk : null)).filter((k) => k !== null);
      if (opts.worker) {
        if (!config.queue) throw new UsageError('--worker needs "queue: {redis, name}" in the config');
        const { runObserveWorker } = await import('../../observatory/queue.js');
        const controller = new AbortController();
        for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => controller.abort());
        const done = await runObserveWorker({
          config: { ...config, queue: config.queue },
          ctx: {
            era: config.era, timeoutMs: config.queryTimeoutMs, attempts: config.queryAttempts, trustedKeys: trustedJwks,
            verify: (material, _era, now) => verifyMaterial(material, { now, trustedKeys: trusted, commitments }),
          },
          log: (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
          signal: controller.signal,
        }).catch((err: unknown) => {
          const e = err as { code?: string; message?: string };
          process.stderr.write(`emblem observe --worker: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}\n`);
          process.exitCode = ExitCode.NOT_VALID;
          return null;
        });
        if (done) process.stdout.write(`${JSON.stringify({ event: 'worker-stopped', ...done })}\n`);
        return;
      }
      const ctWatchRound = config.ct ? (await import('../../observatory/ct-watch.js')).ctWatchRound : null;
      // The CT watch also follows the usable logs of the log list, each as its entry says (RFC 6962 or tiled).
      let listedLogs: import('../../ct/log-list.js').ListedLog[] | undefined;
      if (config.ct && config.logList) {
        const { loadLogLists } = await import('../../ct/log-list-source.js');
        const { isUsableState } = await import('../../ct/log-list.js');
        listedLogs = (await loadLogLists([config.logList])).logs.filter((l) => isUsableState(l.state));
      }
      const extra = await runtime.orgTargets(config);
      const store = await runtime.openStore(config.database);
      const evidence = await runtime.openEvidence(config, clock);
      const alerting = await runtime.openAlerting(config, log, clock);
      let remote: import('../../observatory/queue.js').RemoteObserver | undefined;
      if (config.queue) {
        const { QueueObserver } = await import('../../observatory/queue.js');
        try {
          remote = await QueueObserver.open(config.queue, config.vantagePoints);
        } catch (err) {
          await alerting.close();
          await evidence?.close();
          await store.close();
          const e = err as { code?: string; message?: string };
          log({ event: 'stopped-on-error', error: { code: String(e.code ?? 'ERROR'), message: String(e.message ?? err) } });
          process.stderr.write(`emblem observe: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}\n`);
          // ioredis keeps retrying the unreachable server in the background; nothing else is running yet.
          process.exit(ExitCode.NOT_VALID);
        }
      }
      const controller = new AbortController();
      const stop = (signal: string) => {
        process.stderr.write(`emblem observe: ${signal}: finishing in-flight work\n`);
        controller.abort();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      const service = new ObserveService({
        config, store, evidence, alerts: alerting.sinks, ...(alerting.metrics ? { metrics: alerting.metrics } : {}), clock, log,
        targets: configTargets(config, extra),
        ...(ctWatchRound && config.ct ? { ctWatch: (now: Date) => ctWatchRound({ config: config.ct!, store, log, ...(listedLogs ? { listed: listedLogs } : {}) }, now) } : {}),
        verify: (material, _era, now) => verifyMaterial(material, { now, trustedKeys: trusted, commitments }),
        trustedKeys: trustedJwks,
        ...(remote ? { remote } : {}),
      });
      log({ event: 'started', mode: config.mode, ...(config.queue ? { queue: config.queue.name } : {}), vantagePoints: config.vantagePoints.map((v) => v.name), windowSeconds: config.windowSeconds, simulated: simulated !== undefined });
      let failed = false;
      try {
        await service.run(simulated ?? clock.now(), { ...(windows !== undefined ? { windows } : {}), signal: controller.signal });
      } catch (err) {
        failed = true;
        const e = err as { code?: string; message?: string };
        log({ event: 'stopped-on-error', error: { code: String(e.code ?? 'ERROR'), message: String(e.message ?? err) } });
        process.stderr.write(`emblem observe: stopped: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}\n`);
      } finally {
        if (evidence) {
          // Whatever was appended is covered by a checkpoint before exit (a clean stop loses nothing).
          try {
            if (evidence.size > 0) await evidence.publishCheckpoint();
          } catch {
            failed = true;
          }
          await evidence.close();
        }
        await alerting.close();
        await remote?.close();
        await store.close();
      }
      log({ event: 'stopped', evidenceEntries: evidence?.size ?? 0 });
      process.exitCode = failed ? ExitCode.NOT_VALID : ExitCode.OK;
    });

  observe
    .command('incidents')
    .description('list the incidents recorded by `emblem observe`')
    .option('--config <file>', 'observe.yaml (its "database" is read); required')
    .option('--json', 'print {"incidents": [...]}')
    .option('--open', 'only incidents that are still open')
    .option('--target <name>', 'only this target')
    .addHelpText('after', '\nExit codes: 0 listed (also when there are none); 2 bad usage, invalid config or unreadable database.')
    .action(async (opts: IncidentsFlags) => {
      const { loadObserveConfig, normalizeTarget } = await import('../../observatory/config.js');
      const { openStore } = await import('../../observatory/runtime.js');
      const path = opts.config ?? (observe.opts() as ObserveFlags).config;
      if (path === undefined) throw new UsageError("required option '--config <file>' not specified");
      const json = opts.json ?? (observe.opts() as ObserveFlags).json;
      const config = await loadObserveConfig(path);
      const store = await openStore(config.database);
      try {
        const filter = { ...(opts.open ? { open: true } : {}), ...(opts.target ? { target: normalizeTarget(opts.target) } : {}) };
        const incidents = await store.incidents(filter);
        if (json) {
          process.stdout.write(`${JSON.stringify({ incidents }, null, 2)}\n`);
        } else if (incidents.length === 0) {
          process.stdout.write('no incidents\n');
        } else {
          for (const i of incidents) {
            process.stdout.write(`${i.opened}  ${i.closed ?? 'open'.padEnd(24)}  ${i.severity.padEnd(8)}  ${i.type.padEnd(25)}  ${i.target}  ${i.detail}\n`);
          }
        }
      } finally {
        await store.close();
      }
    });
}
