/**
 * `emblem observe` as a user runs it: a YAML config, the SQLite store, the evidence log on disk and a webhook
 * receiver that checks every HMAC. Time is simulated (--start-at/--windows), so seven windows take seconds.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyWebhookSignature } from '../../src/observatory/alerts/webhook.js';
import { CLI, runCli } from '../helpers/cli.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { freePort, requireTool, startEmblemServer, startKnot, tempDir, type EmblemServer, type RunningServer } from '../dns/servers.js';
import { ORIGIN, T0, buildObserveWorld, type ObserveWorld } from './world.js';

const SECRET = 'a-shared-webhook-secret';
const at = (s: number) => new Date(T0.getTime() + s * 1000).toISOString();

describe('emblem observe (CLI, SQLite, evidence log, webhooks)', () => {
  let world: ObserveWorld;
  let dir: { path: string; remove(): void };
  let emblem: EmblemServer | undefined;
  let knot: RunningServer | undefined;
  let receiver: Server;
  let receiverUrl: string;
  const deliveries: Array<{ id: string; valid: boolean; body: { event: { event: string; type: string; target: string } } }> = [];

  before(async () => {
    world = await buildObserveWorld(3);
    dir = tempDir('emblem-observe-cli-');
    world.write(join(dir.path, 'emblem.zone'), 'steady', 1);
    world.write(join(dir.path, 'knot.zone'), 'steady', 1);
    writeFileSync(join(dir.path, 'authority.jwk'), JSON.stringify(world.authorityJwk));
    emblem = await startEmblemServer([join(dir.path, 'emblem.zone')], ['--rrl-responses-per-second', '0']);
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        deliveries.push({ id: String(req.headers['x-emblem-delivery']), valid: verifyWebhookSignature(SECRET, raw, req.headers['x-emblem-signature'] as string), body: JSON.parse(raw.toString('utf8')) });
        res.writeHead(204).end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  });

  after(async () => {
    await emblem?.stop();
    await knot?.stop();
    receiver?.close();
    dir?.remove();
  });

  function writeConfig(knotPort: number, metricsPort?: number): string {
    const file = join(dir.path, 'observe.yaml');
    writeFileSync(
      file,
      `# observe.yaml for the CLI test
targets:
${world.steady.map((t) => `  - ${t}`).join('\n')}
vantagePoints:
  - { name: emblem, resolver: "127.0.0.1:${emblem!.port}" }
  - { name: knot, resolver: "127.0.0.1:${knotPort}" }
windowSeconds: 10
database: sqlite:state.sqlite
evidenceDir: evidence
webhooks:
  - { url: "${receiverUrl}", secret: "${SECRET}" }
trustedKeys: [authority.jwk]
skipCommitmentCheck: true
era: jws
queryTimeoutMs: 500
${metricsPort ? `metrics: "127.0.0.1:${metricsPort}"\n` : ''}`,
    );
    return file;
  }

  const lines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  it('steady windows, injections, incidents listed, each alert delivered once with a valid HMAC; SIGTERM publishes a final checkpoint', async (t) => {
    if (!requireTool(t, 'knotd')) return;
    knot = await startKnot([{ origin: ORIGIN, file: join(dir.path, 'knot.zone') }]);
    let config = writeConfig(knot.port);
    const steady = await runCli(['observe', '--config', config, '--start-at', at(0), '--windows', '3']);
    assert.equal(steady.code, 0, steady.stderr);
    const steadyLines = lines(steady.stdout);
    assert.equal(steadyLines.filter((l) => l.event === 'window').length, 3);
    assert.equal(steadyLines.filter((l) => String(l.event).startsWith('incident')).length, 0);
    assert.ok(existsSync(join(dir.path, 'evidence', 'observer.pub')));

    world.write(join(dir.path, 'emblem.zone'), 'injected', 2);
    emblem!.child.kill('SIGHUP');
    await knot.stop();
    world.write(join(dir.path, 'knot-b.zone'), 'injected-b', 2);
    knot = await startKnot([{ origin: ORIGIN, file: join(dir.path, 'knot-b.zone') }]);
    config = writeConfig(knot.port);
    await new Promise((r) => setTimeout(r, 300)); // the SIGHUP reload (a few ms; the run below would only lag a window)
    const injected = await runCli(['observe', '--config', config, '--start-at', at(30), '--windows', '4']);
    assert.equal(injected.code, 0, injected.stderr);
    assert.equal(lines(injected.stdout).filter((l) => l.event === 'incident-opened').length, 4, injected.stdout);

    const listed = await runCli(['observe', 'incidents', '--config', config, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const incidents = (JSON.parse(listed.stdout) as { incidents: Array<{ type: string; target: string; opened: string; closed: string | null }> }).incidents;
    assert.deepEqual(incidents.map((i) => [i.target, i.type, i.closed]).sort(), [
      [world.names.expiring, 'LEVEL_DROPPED', null],
      [world.names.inconsistent, 'INCONSISTENT', null],
      [world.names.resigned, 'LEVEL_DROPPED', null],
      [world.names.removed, 'EMBLEM_MISSING', null],
    ]);
    assert.ok(incidents.every((i) => typeof i.opened === 'string'));

    // The webhook: each alert once (distinct delivery ids), every signature valid.
    assert.equal(deliveries.length, 4);
    assert.ok(deliveries.every((d) => d.valid), 'every HMAC verifies');
    assert.equal(new Set(deliveries.map((d) => d.id)).size, 4);
    assert.deepEqual(deliveries.map((d) => `${d.body.event.type} ${d.body.event.target}`).sort(), incidents.map((i) => `${i.type} ${i.target}`).sort());

    // SIGTERM: with simulated time and no --windows the service runs until told to stop; it finishes the batch in
    // flight, publishes a final checkpoint and exits 0.
    // It also serves /metrics: scraped after the first window and parsed as Prometheus text, the counts match.
    const metricsPort = await freePort();
    config = writeConfig(knot.port, metricsPort);
    const child = spawn(process.execPath, [CLI, 'observe', '--config', config, '--start-at', at(70)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let scraped: Promise<string> | null = null;
    child.stdout!.on('data', (d) => {
      out += d;
      if (!scraped && out.includes('"event":"window"')) {
        scraped = fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text()).finally(() => child.kill('SIGTERM'));
      }
    });
    const [code] = (await once(child, 'exit')) as [number];
    const families = parsePrometheusText(await scraped!);
    assert.equal(sampleValue(families, 'emblem_observatory_incidents_open', { type: 'EMBLEM_MISSING' }), 1);
    assert.equal(sampleValue(families, 'emblem_observatory_incidents_open', { type: 'LEVEL_DROPPED' }), 2);
    assert.equal(sampleValue(families, 'emblem_observatory_incidents_open', { type: 'INCONSISTENT' }), 1);
    assert.ok((sampleValue(families, 'emblem_observatory_evidence_entries') ?? 0) > 0);
    assert.equal(code, 0);
    const final = lines(out).find((l) => l.event === 'final-checkpoint');
    assert.ok(final, out);
    const published = readFileSync(join(dir.path, 'evidence', 'checkpoint'), 'utf8').split('\n');
    assert.equal(Number(published[1]), final.size, 'the published checkpoint covers every appended observation');
  });

  it('an invalid config is a usage error naming the field', async () => {
    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'targets: [a.example]\nvantagePoints: [{name: x, resolver: "not-an-address"}]\nwindowSeconds: 0\ndatabase: mysql://x\nmode: spy\nbogus: 1\n');
    const r = await runCli(['observe', '--config', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /OBSERVE_CONFIG_INVALID/);
    for (const field of ['vantagePoints[0].resolver', 'windowSeconds', 'database', 'mode', 'config.bogus']) assert.ok(r.stderr.includes(field), `${field} in ${r.stderr}`);
  });
});
