/**
 * The observe service over real DNS: `emblem dns serve` as one vantage point and Knot serving the same zone as
 * another. Windows are simulated (the clock jumps), so seven 10-second windows take about a second.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as dnsPacket from 'dns-packet';
import type { Material } from '../../src/core/material/material.js';
import { skipCommitmentCheck } from '../../src/core/verify/commitment.js';
import { verifyMaterial } from '../../src/core/verify/index.js';
import { validateObserveConfig, type ObserveConfig } from '../../src/observatory/config.js';
import { ObserveService, simulatedClock } from '../../src/observatory/service.js';
import { buildQuery } from '../../src/dns/resolver.js';
import { normalizeUserName } from '../../src/dns/domain-name.js';
import { freePort, requireTool, startEmblemServer, startKnot, tempDir, udpAsk, type EmblemServer, type RunningServer } from '../dns/servers.js';
import { MemoryAlerts, MemoryEvidence, MemoryStore } from './fakes.js';
import { ORIGIN, T0, TARGET_ADDRESS, buildObserveWorld, type ObserveWorld } from './world.js';

const at = (s: number) => new Date(T0.getTime() + s * 1000);

/** A TCP listener on the targets' address that records every connection (covertness: validators must cause none). */
async function connectionRecorder(): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  server.listen(0, TARGET_ADDRESS);
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, connections: () => n };
}

async function txtCount(port: number, name: string): Promise<number> {
  const answer = await udpAsk(port, buildQuery(normalizeUserName(name), 16, 7), 500);
  return answer ? (dnsPacket.decode(answer).answers ?? []).filter((a) => a.type === 'TXT').length : -1;
}

describe('emblem observe over real DNS (emblem dns serve + Knot)', () => {
  let world: ObserveWorld;
  let dir: { path: string; remove(): void };
  let emblem: EmblemServer | undefined;
  let knot: RunningServer | undefined;
  let recorder: Awaited<ReturnType<typeof connectionRecorder>>;
  let emblemZone: string;
  let knotOk = true;

  before(async () => {
    world = await buildObserveWorld();
    dir = tempDir('emblem-observe-');
    emblemZone = join(dir.path, 'emblem.zone');
    world.write(emblemZone, 'steady', 1);
    const knotZone = join(dir.path, 'knot-steady.zone');
    world.write(knotZone, 'steady', 1);
    emblem = await startEmblemServer([emblemZone], ['--rrl-responses-per-second', '0']);
    recorder = await connectionRecorder();
    try {
      knot = await startKnot([{ origin: ORIGIN, file: knotZone }]);
    } catch {
      knotOk = false;
    }
  });

  after(async () => {
    await emblem?.stop();
    await knot?.stop();
    recorder?.server.close();
    dir?.remove();
  });

  const verify = (trusted: Material[]) => (material: Material[], _era: 'jws' | 'cwt', now: Date) =>
    verifyMaterial(material, { now, trustedKeys: trusted, commitments: skipCommitmentCheck });

  function config(extra: Record<string, unknown>, vantage: Array<{ name: string; resolver: string }>): ObserveConfig {
    return validateObserveConfig(
      { targets: world.steady, vantagePoints: vantage, windowSeconds: 10, database: 'sqlite::memory:', skipCommitmentCheck: true, era: 'jws', queryTimeoutMs: 500, queryAttempts: 2, ...extra },
      join(dir.path, 'observe.yaml'),
    );
  }

  it('steady state gives no incident; each injection gives exactly one incident of the right type; no connection to any target', async (t) => {
    if (!requireTool(t, 'knotd') || !knotOk) return;
    const store = new MemoryStore();
    const evidence = new MemoryEvidence();
    const alerts = new MemoryAlerts();
    const clock = simulatedClock(T0);
    const log: Array<Record<string, unknown>> = [];
    const service = (knotPort: number, extraVantage: Array<{ name: string; resolver: string }> = []) =>
      new ObserveService({
        config: config({}, [{ name: 'emblem', resolver: `127.0.0.1:${emblem!.port}` }, { name: 'knot', resolver: `127.0.0.1:${knotPort}` }, ...extraVantage]),
        store, evidence, alerts: [alerts], verify: verify(world.trusted), clock, log: (l) => log.push(l),
      });

    // Windows 0-2: steady state.
    const steady = await service(knot!.port).run(T0, { windows: 3 });
    assert.equal(steady.length, 3);
    assert.equal(store.incidentRows.length, 0, 'no incident in steady state');
    assert.ok(steady.every((w) => w.errors === 0 && w.observations === world.steady.length * 2), JSON.stringify(steady));

    // Inject: the emblem server reloads the injected zone (SIGHUP); Knot restarts with the injected zone plus a
    // different token set for one name. A third vantage point never answers (timeouts are observations, not incidents).
    world.write(emblemZone, 'injected', 2);
    emblem!.child.kill('SIGHUP');
    for (let i = 0; i < 100 && (await txtCount(emblem!.port, world.names.removed)) !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await txtCount(emblem!.port, world.names.removed), 0, 'the emblem server reloaded');
    await knot!.stop();
    const knotZone = join(dir.path, 'knot-injected.zone');
    world.write(knotZone, 'injected-b', 2);
    knot = await startKnot([{ origin: ORIGIN, file: knotZone }]);
    const silent = createSocket('udp4');
    silent.bind(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      await service(knot.port, [{ name: 'silent', resolver: `127.0.0.1:${silent.address().port}` }]).run(at(30), { windows: 4 });
    } finally {
      silent.close();
    }

    const got = store.incidentRows.map((i) => [i.target, i.type, i.opened, i.closed]).sort();
    assert.deepEqual(got, [
      [world.names.expiring, 'LEVEL_DROPPED', at(60).toISOString(), null],
      [world.names.inconsistent, 'INCONSISTENT', at(40).toISOString(), null],
      [world.names.resigned, 'LEVEL_DROPPED', at(40).toISOString(), null],
      [world.names.removed, 'EMBLEM_MISSING', at(40).toISOString(), null],
    ]);
    assert.equal(store.incidentRows.find((i) => i.target === world.names.resigned)!.detail, 'ENDORSED-TRUSTED -> ORGANIZATIONAL-UNTRUSTED');
    assert.equal(store.incidentRows.find((i) => i.target === world.names.expiring)!.detail, 'ENDORSED-TRUSTED -> expired');
    // Each alert once, and as a JSON line.
    assert.deepEqual(alerts.sent.map((a) => `${a.event} ${a.type} ${a.target}`).sort(), got.map(([target, type]) => `incident-opened ${type} ${target}`).sort());
    assert.equal(log.filter((l) => l.event === 'incident-opened').length, 4);

    // Evidence: one record per target, vantage point and window, raw answers included; the silent vantage point's
    // observations are errors with a code.
    const records = evidence.records();
    assert.equal(records.length, world.steady.length * (3 * 2 + 4 * 3));
    const silentRecords = records.filter((r) => r.vantagePoint === 'silent');
    assert.ok(silentRecords.length > 0 && silentRecords.every((r) => r.status === 'error' && r.error?.code === 'DNS_TIMEOUT'));
    const answered = records.find((r) => r.vantagePoint === 'knot' && r.target === world.names.ok[0])!;
    const wire = dnsPacket.decode(Buffer.from(answered.answers[0]!.wire, 'base64'));
    assert.ok((wire.answers ?? []).some((a) => a.type === 'TXT'), 'the raw DNS answer is kept');
    assert.equal(evidence.checkpoints, 7, 'a checkpoint per window');

    // Covertness: validator mode never connected to the targets' address.
    assert.equal(recorder.connections(), 0);
  });

  it('owner mode: probes reach the asset (and only there), UNREACHABLE for a closed port, EXPIRING ahead of lapse', async () => {
    const store = new MemoryStore();
    const clock = simulatedClock(T0);
    const closedPort = await freePort();
    const before = recorder.connections();
    const cfg = config(
      {
        mode: 'owner',
        expiringWithinSeconds: 60,
        probes: [{ target: world.names.ok[0], ports: [recorder.port] }, { target: world.names.ok[1], ports: [closedPort] }],
        targets: [world.names.ok[0], world.names.ok[1], world.names.expiring],
      },
      [{ name: 'emblem', resolver: `127.0.0.1:${emblem!.port}` }],
    );
    await new ObserveService({ config: cfg, store, evidence: null, verify: verify(world.trusted), clock }).run(T0, { windows: 2 });
    assert.deepEqual(store.incidentRows.map((i) => [i.target, i.type]).sort(), [
      [world.names.expiring, 'EXPIRING'],
      [world.names.ok[1], 'UNREACHABLE'],
    ]);
    assert.equal(recorder.connections() - before, 2, 'one probe connection per window to the probed asset');
  });
});
