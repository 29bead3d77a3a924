/**
 * Wiring for `emblem observe`: opens the store, the evidence log, alerts and metrics named in the config and starts
 * the service. The CLI stays a thin flag parser; this is the only place that knows which backend implements what.
 */
import { dirname, join } from 'node:path';
import type { Material } from '../core/material/material.js';
import { EmblemError } from '../core/errors.js';
import type { ObserveConfig } from './config.js';
import type { ObservatoryStore } from './store.js';
import type { AlertSink, EvidenceSink, ObserveClock, ObserveMetricsSink } from './service.js';

/** The storage backend (obs-store's src/store/database). */
export async function openStore(url: string): Promise<ObservatoryStore> {
  const { openObservatoryStore } = await import('../store/database/index.js');
  const store = await openObservatoryStore(url);
  await store.migrate();
  return store;
}

export async function openEvidence(config: ObserveConfig, clock: ObserveClock): Promise<EvidenceSink | null> {
  if (!config.evidenceDir) return null;
  const { openEvidenceLog } = await import('../evidence/index.js');
  return openEvidenceLog(config.evidenceDir, { now: () => clock.now() });
}

export interface Alerting {
  sinks: AlertSink[];
  metrics?: ObserveMetricsSink;
  close(): Promise<void>;
}

/** Webhook senders and the Prometheus endpoint (obs-store's src/observatory/alerts). */
export async function openAlerting(config: ObserveConfig, log: (line: Record<string, unknown>) => void, clock: ObserveClock): Promise<Alerting> {
  const sinks: AlertSink[] = [];
  const closers: Array<() => Promise<void>> = [];
  if (config.webhooks.length) {
    const { WebhookSender } = await import('./alerts/webhook.js');
    for (const [i, w] of config.webhooks.entries()) {
      const sender = new WebhookSender({
        url: w.url,
        secret: w.secret,
        // Next to the config: alerts that could not be delivered after the retries are kept, never dropped.
        deadLetterFile: join(dirname(config.path), `observe-webhook-${i}-dead-letter.jsonl`),
        now: () => clock.now(),
        onProgress: (p) => log({ event: `webhook-${p.kind}`, webhook: w.url, ...p }),
      });
      sinks.push({ send: (e) => sender.send(e as unknown as Record<string, unknown>), close: async () => void (await sender.close()) });
    }
  }
  let metrics: ObserveMetricsSink | undefined;
  if (config.metrics) {
    const { ObservatoryMetrics, startMetricsServer } = await import('./alerts/metrics.js');
    const m = new ObservatoryMetrics();
    const server = await startMetricsServer(config.metrics, m);
    log({ event: 'metrics-listening', address: config.metrics });
    closers.push(() => server.close());
    metrics = {
      observation: (seconds) => m.observeObservation(seconds),
      window: (targets, open, entries) => {
        m.setTargets(targets);
        m.setOpenIncidents(open);
        m.setEvidenceEntries(entries);
      },
    };
  }
  return {
    sinks,
    ...(metrics ? { metrics } : {}),
    async close() {
      for (const s of sinks) await s.close();
      for (const c of closers) await c();
    },
  };
}

/** The trusted keys named in the config (files and trust stores), as verification material. */
export async function trustedMaterial(config: ObserveConfig): Promise<Material[]> {
  const { publicKeyMaterial, readPublicKeyFile } = await import('../cli/inputs.js');
  const { trustStoreKeys } = await import('../trust/store.js');
  const out: Material[] = [];
  for (const f of config.trustedKeys) out.push(publicKeyMaterial(await readPublicKeyFile(f), f));
  for (const k of await trustStoreKeys(config.trustStore)) out.push(publicKeyMaterial(k, 'trust store'));
  return out;
}

/** The assets of an `emblem org` folder, as names to query (a wildcard asset is probed at a label under it). */
export async function orgTargets(config: ObserveConfig): Promise<string[]> {
  if (!config.orgDir) return [];
  const { loadConfig } = await import('../org/config.js');
  const { probeName } = await import('../org/assets.js');
  const org = await loadConfig(config.orgDir);
  const names = org.assets.map((a) => probeName(a)).filter((n): n is NonNullable<typeof n> => n !== null);
  if (names.length === 0) throw new EmblemError('OBSERVE_CONFIG_INVALID', `${config.orgDir}: the organisation has no domain assets to observe`);
  return names.map((n) => String(n));
}
