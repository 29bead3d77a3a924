import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Histogram, Registry } from 'prom-client';
import { EmblemError } from '../../core/errors.js';
import type { IncidentRecord, IncidentType } from '../store.js';
import { AlertErrorCodes } from './errors.js';
import { AlertLimits } from './limits.js';

/** Every incident type, so /metrics shows a 0 for types with no open incident (a missing series is not a 0). */
const INCIDENT_TYPES: readonly IncidentType[] = [
  'EMBLEM_MISSING',
  'LEVEL_DROPPED',
  'ENDORSEMENT_REMOVED',
  'KEY_CHANGED',
  'EXPIRING',
  'INCONSISTENT',
  'UNREACHABLE',
  'CT_UNEXPECTED_CERTIFICATE',
  'CT_LOG_INCONSISTENT',
];

/**
 * The observatory's Prometheus metrics, on a Registry of its own (not prom-client's global one, so two services
 * in one process, or tests, never mix series):
 *   emblem_observatory_targets{status}             gauge: targets by their latest status (e.g. ENDORSED-TRUSTED,
 *                                                  no-emblem, nxdomain, error)
 *   emblem_observatory_incidents_open{type}        gauge: open incidents by type (every type present, 0 if none)
 *   emblem_observatory_observation_seconds         histogram: time of one observation (discovery + verification)
 *   emblem_observatory_evidence_entries            gauge: entries in the evidence log
 * Gauges are set from the service's state (not counted up and down), so they always equal what the store holds.
 */
export class ObservatoryMetrics {
  readonly registry = new Registry();
  readonly targets = new Gauge({
    name: 'emblem_observatory_targets',
    help: 'Watched targets by the status of their latest observation.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly incidentsOpen = new Gauge({
    name: 'emblem_observatory_incidents_open',
    help: 'Open incidents by type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly observationSeconds = new Histogram({
    name: 'emblem_observatory_observation_seconds',
    help: 'Duration of one observation (DNS discovery through one vantage point plus ADEM verification).',
    // A local resolver answers in ~1 ms, a remote one in 10-100 ms, a timing-out one after seconds.
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly evidenceEntries = new Gauge({
    name: 'emblem_observatory_evidence_entries',
    help: 'Entries in the evidence log (its tree size).',
    registers: [this.registry],
  });

  constructor() {
    this.setOpenIncidents({});
  }

  /** Replaces the per-status target counts (statuses not named disappear). */
  setTargets(counts: Readonly<Record<string, number>> | ReadonlyMap<string, number>): void {
    this.targets.reset();
    const entries = counts instanceof Map ? [...counts.entries()] : Object.entries(counts);
    for (const [status, n] of entries) this.targets.set({ status }, n);
  }

  /** Replaces the open-incident counts; types not named are 0. */
  setOpenIncidents(counts: Readonly<Partial<Record<IncidentType, number>>>): void {
    for (const type of INCIDENT_TYPES) this.incidentsOpen.set({ type }, counts[type] ?? 0);
  }

  /** Counts the open incidents among `incidents` (e.g. store.incidents({ open: true })) by type. */
  setOpenIncidentsFrom(incidents: readonly IncidentRecord[]): void {
    const counts: Partial<Record<IncidentType, number>> = {};
    for (const i of incidents) if (i.closed === null) counts[i.type] = (counts[i.type] ?? 0) + 1;
    this.setOpenIncidents(counts);
  }

  observeObservation(seconds: number): void {
    this.observationSeconds.observe(seconds);
  }

  setEvidenceEntries(n: number): void {
    this.evidenceEntries.set(n);
  }

  /** The text exposition format (what GET /metrics returns). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

export interface RunningMetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** `HOST:PORT` or `[IPv6]:PORT`; the port may be 0 (any free port; see .port). No default host: it binds where told. */
export function parseListenAddress(listen: string): { host: string; port: number } {
  const m = typeof listen === 'string' ? /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(listen) : null;
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65_535) {
    throw new EmblemError(AlertErrorCodes.METRICS_LISTEN_INVALID, `the metrics address must be HOST:PORT (e.g. 127.0.0.1:9464), got ${JSON.stringify(String(listen).slice(0, 80))}`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

/**
 * Serves GET (and HEAD) /metrics on `listen`; any other path is 404, another method on /metrics 405. Bounded:
 * a few connections, small headers, short timeouts; request bodies are discarded unread.
 */
export async function startMetricsServer(listen: string, metrics: ObservatoryMetrics): Promise<RunningMetricsServer> {
  const { host, port } = parseListenAddress(listen);
  const server: Server = createServer({ maxHeaderSize: AlertLimits.metricsMaxHeaderBytes }, (req, res) => {
    void handle(req, res, metrics);
  });
  server.maxConnections = AlertLimits.metricsMaxConnections;
  server.requestTimeout = AlertLimits.metricsRequestTimeoutMs;
  server.headersTimeout = AlertLimits.metricsRequestTimeoutMs;
  server.keepAliveTimeout = AlertLimits.metricsKeepAliveTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new EmblemError(AlertErrorCodes.METRICS_LISTEN_FAILED, `cannot serve metrics on ${listen}: ${err.code ?? err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostInUrl}:${address.port}/metrics`,
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, metrics: ObservatoryMetrics): Promise<void> {
  req.resume(); // no request has a body we want
  const path = (req.url ?? '').split('?', 1)[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  try {
    const body = await metrics.text();
    res.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch (err) {
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`metrics unavailable: ${(err as Error).message}\n`);
  }
}
