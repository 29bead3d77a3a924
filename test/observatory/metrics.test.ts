// Prometheus /metrics (issue 12 "Alerts", acceptance 5): scraped over HTTP, parsed with a strict text-format
// parser (test/helpers/prometheus-text.ts), values equal to the store's incidents.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { AlertErrorCodes } from '../../src/observatory/alerts/errors.js';
import { ObservatoryMetrics, parseListenAddress, startMetricsServer, type RunningMetricsServer } from '../../src/observatory/alerts/metrics.js';
import type { ObservatoryStore } from '../../src/observatory/store.js';
import { openObservatoryStore } from '../../src/store/database/index.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

function get(url: string, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

let store: ObservatoryStore;
let server: RunningMetricsServer;
const metrics = new ObservatoryMetrics();

before(async () => {
  store = await openObservatoryStore('sqlite::memory:');
  server = await startMetricsServer('127.0.0.1:0', metrics);
});
after(async () => {
  await server?.close();
  await store?.close();
});

test('a scrape of /metrics parses strictly and its values match the store and what was observed', async () => {
  const open = (type: 'EMBLEM_MISSING' | 'LEVEL_DROPPED' | 'INCONSISTENT', target: string) =>
    store.openIncident({ type, target, severity: 'critical', opened: '2026-03-01T00:00:00.000Z', observations: [], detail: '' });
  await open('EMBLEM_MISSING', 'a.example');
  await open('EMBLEM_MISSING', 'b.example');
  const dropped = await open('LEVEL_DROPPED', 'c.example');
  await open('INCONSISTENT', 'd.example');
  await store.closeIncident(dropped.id, '2026-03-01T00:01:00.000Z');
  metrics.setOpenIncidentsFrom(await store.incidents({ open: true }));
  metrics.setTargets({ 'ENDORSED-TRUSTED': 3, 'no-emblem': 1, error: 1 });
  metrics.setTargets(new Map([['ENDORSED-TRUSTED', 5], ['nxdomain', 2]])); // replaces the previous counts
  for (const s of [0.0004, 0.004, 0.02, 0.3, 12]) metrics.observeObservation(s);
  metrics.setEvidenceEntries(1234);

  const res = await get(server.url);
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusText(res.body);

  assert.equal(families.get('emblem_observatory_incidents_open')?.type, 'gauge');
  const stored = await store.incidents({ open: true });
  for (const type of ['EMBLEM_MISSING', 'LEVEL_DROPPED', 'ENDORSEMENT_REMOVED', 'KEY_CHANGED', 'EXPIRING', 'INCONSISTENT', 'UNREACHABLE', 'CT_UNEXPECTED_CERTIFICATE', 'CT_LOG_INCONSISTENT']) {
    const expected = stored.filter((i) => i.type === type).length;
    assert.equal(sampleValue(families, 'emblem_observatory_incidents_open', { type }), expected, type);
  }
  assert.equal(sampleValue(families, 'emblem_observatory_incidents_open', { type: 'EMBLEM_MISSING' }), 2);
  assert.equal(sampleValue(families, 'emblem_observatory_incidents_open', { type: 'LEVEL_DROPPED' }), 0);

  assert.deepEqual(
    families.get('emblem_observatory_targets')!.samples.map((s) => [s.labels.status, s.value]).sort(),
    [['ENDORSED-TRUSTED', 5], ['nxdomain', 2]],
  );

  assert.equal(families.get('emblem_observatory_observation_seconds')?.type, 'histogram');
  const h = (le: string) => sampleValue(families, 'emblem_observatory_observation_seconds_bucket', { le });
  assert.equal(h('0.001'), 1);
  assert.equal(h('0.005'), 2);
  assert.equal(h('0.025'), 3);
  assert.equal(h('0.5'), 4);
  assert.equal(h('10'), 4);
  assert.equal(h('+Inf'), 5);
  assert.equal(sampleValue(families, 'emblem_observatory_observation_seconds_count'), 5);
  assert.ok(Math.abs(sampleValue(families, 'emblem_observatory_observation_seconds_sum')! - 12.3244) < 1e-9);

  assert.equal(sampleValue(families, 'emblem_observatory_evidence_entries'), 1234);
  assert.equal(families.get('emblem_observatory_evidence_entries')?.help, 'Entries in the evidence log (its tree size).');
  // Its own registry: nothing but the observatory's four families.
  assert.deepEqual([...families.keys()].sort(), [
    'emblem_observatory_evidence_entries',
    'emblem_observatory_incidents_open',
    'emblem_observatory_observation_seconds',
    'emblem_observatory_targets',
  ]);
});

test('the server answers only /metrics: 404 elsewhere, 405 for other methods, HEAD without a body', async () => {
  assert.equal((await get(server.url.replace('/metrics', '/'))).status, 404);
  assert.equal((await get(server.url.replace('/metrics', '/metrics/x'))).status, 404);
  assert.equal((await get(`${server.url}?name=x`)).status, 200);
  const post = await get(server.url, 'POST');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  const head = await get(server.url, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('listen addresses: HOST:PORT only; a port in use is METRICS_LISTEN_FAILED', async () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListenAddress('localhost:80'), { host: 'localhost', port: 80 });
  for (const bad of ['', '9464', ':9464', '127.0.0.1', '127.0.0.1:65536', '127.0.0.1:-1', '::1:9464', 'a b:1']) {
    assert.throws(() => parseListenAddress(bad), { code: AlertErrorCodes.METRICS_LISTEN_INVALID }, bad);
  }
  await assert.rejects(startMetricsServer(`127.0.0.1:${server.port}`, new ObservatoryMetrics()), { code: AlertErrorCodes.METRICS_LISTEN_FAILED });
});

test('property: any status label value survives prom-client escaping and the strict parser', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(fc.string({ unit: 'grapheme', maxLength: 30 }), { maxLength: 5 }), fc.nat(1_000_000), async (statuses, n) => {
      const m = new ObservatoryMetrics();
      m.setTargets(Object.fromEntries(statuses.map((s, i) => [s, n + i])));
      const families = parsePrometheusText(await m.text());
      statuses.forEach((s, i) => assert.equal(sampleValue(families, 'emblem_observatory_targets', { status: s }), n + i));
    }),
    { numRuns: 50 },
  );
});

test('the parser is strict: malformed expositions are rejected', () => {
  const ok = '# TYPE x gauge\nx{a="1"} 2\n';
  assert.equal(sampleValue(parsePrometheusText(ok), 'x', { a: '1' }), 2);
  for (const bad of [
    '# TYPE x gauge\nx 1', // no final newline
    'x 1\nx 2\n', // duplicate series
    'x{a="1",a="2"} 1\n', // duplicate label
    'x{a="\\q"} 1\n', // bad escape
    'x{a="1"} one\n', // bad value
    'x{a=1} 1\n', // unquoted label value
    '# TYPE x gauge\n# TYPE x counter\nx 1\n', // two TYPEs
    '# TYPE x wat\nx 1\n',
    'x 1\ny 1\nx{a="b"} 1\n', // family not contiguous
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 0\n', // not cumulative
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\nh_sum 0\n', // no +Inf
    '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 1\nh_sum 0\n', // count differs
  ]) {
    assert.throws(() => parsePrometheusText(bad), /line \d+/, JSON.stringify(bad));
  }
});
