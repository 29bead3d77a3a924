import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { reportError } from '../core/errors.js';
import type { ObserveConfig } from './config.js';
import { normalizeTarget } from './config.js';
import {
  decodeIncidentState,
  dropEvidenceFrom,
  encodeIncidentState,
  stepIncidents,
  type IncidentEvent,
  type ObservationSummary,
  type ProbeSummary,
} from './incidents.js';
import { ObserveLimits } from './limits.js';
import { observeTarget, type Observation, type ObservationContext, type VantagePoint } from './observation.js';
import type { RemoteObserver } from './queue.js';
import { probeTarget } from './probe.js';
import type { IncidentRecord, ObservationIndexRecord, ObservatoryStore, TargetStateRecord } from './store.js';

/** The evidence log as the service uses it (src/evidence: openEvidenceLog). */
export interface EvidenceSink {
  append(entry: Uint8Array): Promise<number>;
  publishCheckpoint(): Promise<string>;
  readonly size: number;
  close(): Promise<void>;
}

/** Where alerts go (src/observatory/alerts/webhook.ts WebhookSender): send() enqueues, close() flushes. */
export interface AlertSink {
  send(event: AlertEvent): unknown;
  close(): Promise<void>;
}

/** The alert body (webhook JSON and the stdout log line). */
export interface AlertEvent {
  event: 'incident-opened' | 'incident-closed';
  id: number;
  type: IncidentRecord['type'];
  target: string;
  severity: IncidentRecord['severity'];
  opened: string;
  closed: string | null;
  detail: string;
  observations: number[];
}

/** What the service reports to Prometheus (adapted to ObservatoryMetrics by the CLI). */
export interface ObserveMetricsSink {
  observation(seconds: number, status: string): void;
  window(targetsByStatus: Record<string, number>, openIncidents: Record<string, number>, evidenceEntries: number): void;
}

/**
 * Time as the service sees it. The real clock sleeps; the simulated one (tests, `--start-at`) jumps, so a test runs
 * many windows in milliseconds and never reads the wall clock.
 */
export interface ObserveClock {
  now(): Date;
  sleepUntil(time: Date, signal?: AbortSignal): Promise<void>;
}

export const wallClock: ObserveClock = {
  now: () => new Date(),
  sleepUntil: (time, signal) =>
    new Promise<void>((resolve) => {
      const ms = time.getTime() - Date.now();
      if (ms <= 0 || signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export function simulatedClock(start: Date): ObserveClock & { set(t: Date): void } {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    set: (d: Date) => {
      t = d.getTime();
    },
    sleepUntil: async (time) => {
      if (time.getTime() > t) t = time.getTime();
    },
  };
}

export interface ObserveServiceOptions {
  config: ObserveConfig;
  store: ObservatoryStore;
  evidence: EvidenceSink | null;
  alerts?: AlertSink[];
  metrics?: ObserveMetricsSink;
  verify: ObservationContext['verify'];
  /** The public JWKs `verify` trusts (the config's trustedKeys and trustStore): recorded in each evidence entry. */
  trustedKeys?: readonly unknown[];
  clock: ObserveClock;
  /** One JSON object per line on stdout in the CLI. */
  log?: (line: Record<string, unknown>) => void;
  /** The targets of one window, streamed (a list file is re-read each window, so it may change while running). */
  targets?: () => AsyncIterable<string>;
  /** Evidence entries between mid-window checkpoints (default ObserveLimits.checkpointEveryEntries; tests lower it). */
  checkpointEveryEntries?: number;
  /** Observations made by queue workers (queue.ts) instead of in this process; probes stay here. */
  remote?: RemoteObserver;
  /** CT watch, once per window (ct-watch.ts): its events open incidents at once. */
  ctWatch?: (now: Date) => Promise<IncidentEvent[]>;
}

export interface WindowSummary {
  start: string;
  targets: number;
  observations: number;
  errors: number;
  opened: number;
  closed: number;
  checkpoint: string | null;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

/** The configured targets, streamed: inline names, then the list file line by line (blank lines and # comments skipped). */
export function configTargets(config: ObserveConfig, extra: readonly string[] = []): () => AsyncIterable<string> {
  return async function* () {
    const seen = config.targetsFile ? null : new Set<string>();
    for (const t of [...config.targets, ...extra]) {
      if (seen?.has(t)) continue;
      seen?.add(t);
      yield t;
    }
    if (config.targetsFile) {
      const lines = createInterface({ input: createReadStream(config.targetsFile, 'utf8'), crlfDelay: Infinity });
      for await (const line of lines) {
        const text = line.replace(/#.*/, '').trim();
        if (text === '') continue;
        try {
          yield normalizeTarget(text);
        } catch {
          // an unusable line is skipped (and logged by the caller's count); one bad name cannot stop monitoring
        }
      }
    }
  };
}

/**
 * The observe loop: each window, every target once through every vantage point, paced across the window (jitter),
 * in batches (bounded memory: a batch's states, observations and records are all that is held), each observation
 * appended to the evidence log, the incident machine stepped, incidents opened/closed in the store and alerted.
 */
export class ObserveService {
  private readonly vantagePoints: VantagePoint[];
  private readonly probes: Map<string, number[]>;
  private readonly log: (line: Record<string, unknown>) => void;
  private readonly targets: () => AsyncIterable<string>;
  private lastCount = 0;
  /** The evidence log's size at the last checkpoint this service published. */
  private publishedSize = 0;
  /** Until the first window has run: the log's size at start-up. Target states saved before it (a previous run)
   *  may name leaves at or past it, which a crash lost; they are dropped as each state is first read. */
  private repairStatesFrom: number | null = null;
  private readonly ctx: ObservationContext;

  constructor(private readonly o: ObserveServiceOptions) {
    this.vantagePoints = o.config.vantagePoints.map((v) => ({ name: v.name, resolver: v.resolver, spec: v.spec }));
    this.probes = new Map(o.config.mode === 'owner' ? o.config.probes.map((p) => [p.target, p.ports]) : []);
    this.log = o.log ?? (() => {});
    this.targets = o.targets ?? configTargets(o.config);
    this.ctx = { era: o.config.era, timeoutMs: o.config.queryTimeoutMs, attempts: o.config.queryAttempts, verify: o.verify, ...(o.trustedKeys ? { trustedKeys: o.trustedKeys } : {}) };
  }

  /**
   * Runs windows from `start` until `signal` aborts (or `windows` have run). On abort the batch in flight finishes,
   * a final checkpoint is published, and the method returns.
   */
  async run(start: Date, options: { windows?: number; signal?: AbortSignal } = {}): Promise<WindowSummary[]> {
    const summaries: WindowSummary[] = [];
    const windowMs = this.o.config.windowSeconds * 1000;
    if (this.o.evidence) {
      // After a crash the log keeps only what its last published checkpoint covers and will reuse the later leaf
      // indexes; index rows written for the lost entries would point at wrong leaves, so they go first.
      const dropped = await this.o.store.discardObservationsFromLeaf(this.o.evidence.size);
      if (dropped > 0) this.log({ event: 'index-repaired', size: this.o.evidence.size, dropped });
      // Incidents name their triggering observations by leaf index: the lost ones go too (noted in the detail).
      for (const r of await this.o.store.discardIncidentObservationsFromLeaf(this.o.evidence.size)) {
        this.log({ event: 'incident-repaired', id: r.id, size: this.o.evidence.size, dropped: r.dropped });
      }
      this.publishedSize = this.o.evidence.size;
      this.repairStatesFrom = this.o.evidence.size;
    }
    for (let w = 0; options.windows === undefined || w < options.windows; w++) {
      if (options.signal?.aborted) break;
      const at = new Date(start.getTime() + w * windowMs);
      if (this.o.clock.now().getTime() > at.getTime() + windowMs) {
        this.log({ event: 'window-skipped', start: at.toISOString(), reason: 'the previous window overran' });
        continue;
      }
      await this.o.clock.sleepUntil(at, options.signal);
      if (options.signal?.aborted) break;
      summaries.push(await this.runWindow(at, options.signal));
    }
    if (options.signal?.aborted && this.o.evidence) {
      const checkpoint = await this.o.evidence.publishCheckpoint();
      this.log({ event: 'final-checkpoint', size: this.o.evidence.size, checkpoint: checkpoint.split('\n').slice(0, 3).join('\n') });
    }
    return summaries;
  }

  /** One window starting at `start`; returns when every target has been observed (or the signal aborted). */
  async runWindow(start: Date, signal?: AbortSignal): Promise<WindowSummary> {
    const { config } = this.o;
    const summary: WindowSummary = { start: start.toISOString(), targets: 0, observations: 0, errors: 0, opened: 0, closed: 0, checkpoint: null };
    const spreadMs = config.windowSeconds * 1000 * config.jitter;
    const expected = Math.max(this.lastCount, 1);
    const byStatus: Record<string, number> = {};
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      // Pacing: batch k starts at its share of the window, so 100,000 targets become a steady query rate, not a burst.
      const offset = Math.min(spreadMs, (summary.targets / expected) * spreadMs);
      await this.o.clock.sleepUntil(new Date(start.getTime() + offset), signal);
      const counts = await this.runBatch(batch, byStatus);
      summary.targets += batch.length;
      summary.observations += counts.observations;
      summary.errors += counts.errors;
      summary.opened += counts.opened;
      summary.closed += counts.closed;
      batch = [];
      // Bounded memory: the log keeps entries since its last checkpoint in memory, so publish along the way
      // rather than only at the window's end (this also bounds what a crash can lose).
      const evidence = this.o.evidence;
      if (evidence && evidence.size - this.publishedSize >= (this.o.checkpointEveryEntries ?? ObserveLimits.checkpointEveryEntries)) {
        await evidence.publishCheckpoint();
        this.publishedSize = evidence.size;
      }
    };
    for await (const target of this.targets()) {
      if (signal?.aborted) break;
      batch.push(target);
      if (batch.length >= ObserveLimits.batchSize) await flush();
    }
    if (!signal?.aborted) await flush();
    if (!signal?.aborted) this.repairStatesFrom = null; // every target's state has been read (and rewritten) once
    this.lastCount = summary.targets;
    if (this.o.ctWatch && !signal?.aborted) {
      for (const e of await this.o.ctWatch(this.o.clock.now())) {
        // One open CT_LOG_INCONSISTENT per log is enough: later rounds see the same fork again.
        if (e.type === 'CT_LOG_INCONSISTENT' && (await this.o.store.incidents({ open: true, target: e.target })).some((i) => i.type === e.type)) continue;
        if (await this.applyEvent(e)) summary.opened++;
      }
    }
    if (this.o.evidence) {
      const checkpoint = await this.o.evidence.publishCheckpoint();
      this.publishedSize = this.o.evidence.size;
      summary.checkpoint = checkpoint.split('\n').slice(0, 3).join('\n');
    }
    if (this.o.metrics) {
      const open: Record<string, number> = {};
      for (const i of await this.o.store.incidents({ open: true })) open[i.type] = (open[i.type] ?? 0) + 1;
      this.o.metrics.window(byStatus, open, this.o.evidence?.size ?? 0);
    }
    this.log({ event: 'window', ...summary });
    return summary;
  }

  private async runBatch(targets: readonly string[], byStatus: Record<string, number>): Promise<{ observations: number; errors: number; opened: number; closed: number }> {
    const { config, store, evidence } = this.o;
    const states = await store.getTargetStates(targets);
    const perTarget = new Map<string, { observations: ObservationSummary[]; probe?: ProbeSummary; time: Date }>();
    const index: ObservationIndexRecord[] = [];
    let errors = 0;
    const tasks: Array<{ target: string; vp: VantagePoint | null }> = [];
    for (const target of targets) {
      perTarget.set(target, { observations: [], time: this.o.clock.now() });
      for (const vp of this.vantagePoints) tasks.push({ target, vp });
      if (this.probes.has(target)) tasks.push({ target, vp: null });
    }
    // Every observation, made here or by a queue worker, goes through this: evidence first, then the index row.
    const record = async (target: string, obs: Observation, seconds: number) => {
      const entry = perTarget.get(target)!;
      this.o.metrics?.observation(seconds, obs.record.status);
      if (obs.summary.status === 'error') errors++;
      let leafIndex: number | null = null;
      if (evidence) {
        try {
          leafIndex = await evidence.append(new TextEncoder().encode(JSON.stringify(obs.record)));
        } catch (err) {
          // One oversized record (a zone publishing huge answers) must not stop monitoring every other target; any
          // other evidence failure stops the service loudly.
          const e = reportError(err);
          if (e.code !== 'EVIDENCE_ENTRY_TOO_LARGE') throw err;
          this.log({ event: 'evidence-entry-skipped', target, vantagePoint: obs.record.vantagePoint, error: e });
        }
      }
      entry.observations.push({ ...obs.summary, leafIndex });
      index.push({ target, time: obs.record.time, vantagePoint: obs.record.vantagePoint, status: obs.record.status, leafIndex });
    };
    const probe = async (target: string) => {
      perTarget.get(target)!.probe = await probeTarget(target, this.probes.get(target)!, this.vantagePoints[0]!.spec, ObserveLimits.probeTimeoutMs);
    };
    const remote = this.o.remote;
    if (remote) {
      const dns = tasks.filter((t): t is { target: string; vp: VantagePoint } => t.vp !== null);
      const [results] = await Promise.all([
        remote.observe(dns.map((t) => ({ target: t.target, vantagePoint: t.vp.name, time: perTarget.get(t.target)!.time.toISOString() }))),
        pool(tasks.filter((t) => t.vp === null), config.concurrency, ({ target }) => probe(target)),
      ]);
      // One writer: records are appended in task order, whatever order the workers finished in.
      for (const [i, r] of results.entries()) await record(dns[i]!.target, r.observation, r.seconds);
    } else {
      await pool(tasks, config.concurrency, async ({ target, vp }) => {
        if (vp === null) return probe(target);
        const began = performance.now();
        const obs = await observeTarget(target, vp, perTarget.get(target)!.time, this.ctx);
        await record(target, obs, (performance.now() - began) / 1000);
      });
    }
    // Vantage points in config order, so the machine's input does not depend on which answer came first.
    const order = new Map(this.vantagePoints.map((v, i) => [v.name, i]));
    const newStates: TargetStateRecord[] = [];
    const events: IncidentEvent[] = [];
    for (const target of targets) {
      const entry = perTarget.get(target)!;
      entry.observations.sort((a, b) => order.get(a.vantagePoint)! - order.get(b.vantagePoint)!);
      const first = entry.observations.find((o) => o.status !== 'error');
      const status = first ? first.status : 'error';
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      const before = decodeIncidentState(states.get(target)?.state);
      const step = stepIncidents(
        this.repairStatesFrom === null || before === null ? before : dropEvidenceFrom(before, this.repairStatesFrom),
        { target, observations: entry.observations, ...(entry.probe ? { probe: entry.probe } : {}) },
        entry.time,
        { consecutiveWindows: config.consecutiveWindows, mode: config.mode, expiringWithinSeconds: config.expiringWithinSeconds },
      );
      newStates.push({ target, state: encodeIncidentState(step.state), updated: entry.time.toISOString() });
      events.push(...step.events);
    }
    // The store is the service's memory: if it fails, the service stops loudly (the caller exits non-zero) rather
    // than observing on without being able to remember incidents.
    await store.addObservations(index);
    await store.putTargetStates(newStates);
    let opened = 0;
    let closed = 0;
    for (const e of events) {
      const record = await this.applyEvent(e);
      if (!record) continue;
      if (e.kind === 'opened') opened++;
      else closed++;
    }
    return { observations: index.length, errors, opened, closed };
  }

  /** Records an incident event in the store and alerts on it; returns the incident. */
  async applyEvent(e: IncidentEvent): Promise<IncidentRecord | null> {
    const { store } = this.o;
    let record: IncidentRecord | null = null;
    if (e.kind === 'opened') {
      record = await store.openIncident({ type: e.type, target: e.target, severity: e.severity, opened: e.time, observations: e.observations, detail: e.detail });
    } else {
      const open = (await store.incidents({ open: true, target: e.target })).find((i) => i.type === e.type);
      if (!open) return null; // already closed (e.g. by hand): nothing to do
      await store.closeIncident(open.id, e.time, e.observations);
      record = { ...open, closed: e.time, observations: [...open.observations, ...e.observations] };
    }
    const alert: AlertEvent = {
      event: e.kind === 'opened' ? 'incident-opened' : 'incident-closed',
      id: record.id,
      type: record.type,
      target: record.target,
      severity: record.severity,
      opened: record.opened,
      closed: record.closed,
      detail: record.detail,
      observations: record.observations,
    };
    this.log(alert as unknown as Record<string, unknown>);
    for (const sink of this.o.alerts ?? []) {
      try {
        await sink.send(alert);
      } catch (err) {
        this.log({ event: 'alert-failed', error: reportError(err) });
      }
    }
    return record;
  }
}
