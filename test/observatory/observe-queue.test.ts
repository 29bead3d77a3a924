/**
 * Observation jobs on queue workers: a real Debian redis-server and two `emblem observe --worker` processes on
 * 127.0.0.1. The coordinator (the service, in this process) keeps the incident machine, the store and the evidence
 * log; the workers make the DNS queries. Windows are simulated, so the test takes seconds.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Material } from '../../src/core/material/material.js';
import { skipCommitmentCheck } from '../../src/core/verify/commitment.js';
import { verifyMaterial } from '../../src/core/verify/index.js';
import { loadObserveConfig, type ObserveConfig } from '../../src/observatory/config.js';
import { QueueObserver } from '../../src/observatory/queue.js';
import { ObserveService, simulatedClock } from '../../src/observatory/service.js';
import { CLI } from '../helpers/cli.js';
import { startEmblemServer, tempDir, type EmblemServer } from '../dns/servers.js';
import { redisAvailable, startRedis, type RunningRedis } from '../scan/redis-server.js';
import { MemoryEvidence, MemoryStore } from './fakes.js';
import { T0, buildObserveWorld, type ObserveWorld } from './world.js';

const at = (s: number) => new Date(T0.getTime() + s * 1000);
const haveRedis = redisAvailable();
const skip = !haveRedis && process.env.CI !== 'true' ? 'redis-server is not installed (apt-get install redis-server)' : false;

interface RunningWorker {
  child: ChildProcess;
  log: Array<{ event: string; job?: string }>;
  exited: Promise<unknown>;
}

describe('emblem observe with queue workers (BullMQ on redis-server)', { skip }, () => {
  let world: ObserveWorld;
  let dir: { path: string; remove(): void };
  let emblem: EmblemServer | undefined;
  let redis: RunningRedis | undefined;
  let silent: Socket | undefined;
  let zone: string;
  const workers: RunningWorker[] = [];

  before(async () => {
    assert.ok(haveRedis, 'CI=true: redis-server must be installed for the observe queue tests');
    world = await buildObserveWorld(20);
    dir = tempDir('emblem-observe-queue-');
    zone = join(dir.path, 'emblem.zone');
    world.write(zone, 'steady', 1);
    emblem = await startEmblemServer([zone], ['--rrl-responses-per-second', '0']);
    redis = await startRedis();
    writeFileSync(join(dir.path, 'authority.jwk'), JSON.stringify(world.authorityJwk));
    // A vantage point that never answers: its observations take queryTimeoutMs x queryAttempts, so a job is still
    // in a worker's hands when the test kills it.
    silent = createSocket('udp4');
    silent.bind(0, '127.0.0.1');
    await once(silent, 'listening');
  });

  after(async () => {
    for (const w of workers) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await w.exited;
    }
    silent?.close();
    await emblem?.stop();
    await redis?.stop();
    dir?.remove();
  });

  /** observe.yaml shared by the coordinator and its workers (same vantage points and trust settings). */
  function writeConfig(name: string, queue: string, vantage: Array<{ name: string; resolver: string }>, extra = ''): string {
    const file = join(dir.path, `${name}.yaml`);
    writeFileSync(file, `targets: [${world.steady.join(', ')}]
vantagePoints:
${vantage.map((v) => `  - { name: ${v.name}, resolver: "${v.resolver}" }`).join('\n')}
windowSeconds: 10
database: "sqlite::memory:"
trustedKeys: [authority.jwk]
skipCommitmentCheck: true
era: jws
queryTimeoutMs: 500
queryAttempts: 2
queue: { redis: "${redis!.url}", name: ${queue}${extra} }
`);
    return file;
  }

  function startWorker(config: string): RunningWorker {
    const child = spawn(process.execPath, [CLI, 'observe', '--worker', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log: RunningWorker['log'] = [];
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) log.push(JSON.parse(l));
    });
    const worker = { child, log, exited: new Promise((resolve) => child.once('exit', resolve)) };
    workers.push(worker);
    return worker;
  }

  async function ready(w: RunningWorker): Promise<void> {
    for (let i = 0; i < 400 && !w.log.some((l) => l.event === 'worker-ready'); i++) {
      assert.equal(w.child.exitCode, null, 'the worker exited before it was ready');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(w.log.some((l) => l.event === 'worker-ready'), 'worker ready');
  }

  const verify = (trusted: Material[]) => (material: Material[], _era: 'jws' | 'cwt', now: Date) =>
    verifyMaterial(material, { now, trustedKeys: trusted, commitments: skipCommitmentCheck });

  function service(config: ObserveConfig, store: MemoryStore, evidence: MemoryEvidence, remote?: QueueObserver): ObserveService {
    return new ObserveService({ config, store, evidence, verify: verify(world.trusted), clock: simulatedClock(T0), ...(remote ? { remote } : {}) });
  }

  it('two workers give the same incidents and evidence statuses as the in-process service; workers make the queries', async () => {
    const file = writeConfig('same', 'observe-same', [{ name: 'emblem', resolver: `127.0.0.1:${emblem!.port}` }]);
    const config = await loadObserveConfig(file);
    const a = startWorker(file);
    const b = startWorker(file);
    await Promise.all([ready(a), ready(b)]);
    const remote = await QueueObserver.open(config.queue!, config.vantagePoints);
    const local = { store: new MemoryStore(), evidence: new MemoryEvidence() };
    const queued = { store: new MemoryStore(), evidence: new MemoryEvidence() };
    try {
      const { queue: _q, ...inProcess } = config;
      for (const [from, windows] of [[0, 3], [30, 4]] as const) {
        if (from === 30) {
          world.write(zone, 'injected', 2);
          emblem!.child.kill('SIGHUP');
          await new Promise((r) => setTimeout(r, 1_000)); // the server reloads (the e2e test checks the reload itself)
        }
        await service(inProcess, local.store, local.evidence).run(at(from), { windows });
        await service(config, queued.store, queued.evidence, remote).run(at(from), { windows });
      }
    } finally {
      await remote.close();
    }
    const incidents = (s: MemoryStore) => s.incidentRows.map((i) => [i.target, i.type, i.opened, i.closed, i.detail]).sort();
    assert.deepEqual(incidents(queued.store), [
      [world.names.expiring, 'LEVEL_DROPPED', at(60).toISOString(), null, 'ENDORSED-TRUSTED -> expired'],
      [world.names.resigned, 'LEVEL_DROPPED', at(40).toISOString(), null, 'ENDORSED-TRUSTED -> ORGANIZATIONAL-UNTRUSTED'],
      [world.names.removed, 'EMBLEM_MISSING', at(40).toISOString(), null, 'ENDORSED-TRUSTED -> no-emblem'],
    ]);
    assert.deepEqual(incidents(queued.store), incidents(local.store), 'the same incidents as the in-process path');
    const statuses = (e: MemoryEvidence) => e.records().map((r) => `${r.target} ${(r as { time?: string }).time} ${r.status}`).sort();
    assert.equal(queued.evidence.records().length, world.steady.length * 7);
    assert.deepEqual(statuses(queued.evidence), statuses(local.evidence));
    // Each incident names the evidence leaves that triggered it, in the coordinator's log.
    for (const i of queued.store.incidentRows) {
      assert.ok(i.observations.length > 0);
      for (const leaf of i.observations) assert.equal(queued.evidence.records()[leaf]!.target, i.target);
    }
    const done = [...a.log, ...b.log].filter((l) => l.event === 'job-done').length;
    assert.equal(done, 7, 'one job per window (24 targets x 1 vantage point), made by the workers');
    for (const w of [a, b]) w.child.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
    assert.deepEqual([a.child.exitCode, b.child.exitCode], [0, 0], 'SIGTERM stops a worker cleanly');
    assert.ok([...a.log, ...b.log].filter((l) => l.event === 'worker-stopped').length === 2);
  });

  it('a worker killed mid-job: its job is retried by the other, the window completes with every observation once', async () => {
    const vantage = [{ name: 'emblem', resolver: `127.0.0.1:${emblem!.port}` }, { name: 'silent', resolver: `127.0.0.1:${silent!.address().port}` }];
    const file = writeConfig('kill', 'observe-kill', vantage, ', lockSeconds: 2, jobTimeoutSeconds: 60');
    const config = await loadObserveConfig(file);
    const a = startWorker(file);
    await ready(a);
    const remote = await QueueObserver.open(config.queue!, config.vantagePoints);
    const store = new MemoryStore();
    const evidence = new MemoryEvidence();
    try {
      const running = service(config, store, evidence, remote).run(at(1000), { windows: 1 });
      // Worker A takes a job (its silent observations take a second): kill it before it finishes, then start B.
      for (let i = 0; i < 400 && !a.log.some((l) => l.event === 'job-start'); i++) await new Promise((r) => setTimeout(r, 10));
      const killed = a.log.find((l) => l.event === 'job-start')?.job;
      assert.ok(killed, 'worker A started a job');
      a.child.kill('SIGKILL');
      await a.exited;
      assert.ok(!a.log.some((l) => l.event === 'job-done' && l.job === killed), 'worker A died in the middle of the job');
      const b = startWorker(file);
      const [summary] = await running;
      assert.equal(summary!.observations, world.steady.length * 2, 'the window completed');
      assert.ok(b.log.some((l) => l.event === 'job-done' && l.job === killed), 'the killed job was retried by worker B');
      const records = evidence.records();
      const pairs = records.map((r) => `${r.target} ${r.vantagePoint}`);
      assert.equal(new Set(pairs).size, world.steady.length * 2, 'every (target, vantage point) exactly once');
      // (The zone is the injected one since the first test: some names no longer verify, but each got an answer.)
      assert.ok(records.filter((r) => r.vantagePoint === 'emblem').every((r) => r.status !== 'error'), 'the retried observations are real');
      assert.ok(records.filter((r) => r.vantagePoint === 'silent').every((r) => r.status === 'error' && r.error?.code === 'DNS_TIMEOUT'));
      assert.equal(store.incidentRows.length, 0);
    } finally {
      await remote.close();
    }
  });

  it('no worker at all: after jobTimeoutSeconds every observation is an OBSERVE_JOB_TIMEOUT error in the evidence, never an incident', async () => {
    const file = writeConfig('none', 'observe-none', [{ name: 'emblem', resolver: `127.0.0.1:${emblem!.port}` }], ', jobTimeoutSeconds: 1');
    const config = await loadObserveConfig(file);
    const remote = await QueueObserver.open(config.queue!, config.vantagePoints);
    const store = new MemoryStore();
    const evidence = new MemoryEvidence();
    try {
      // Windows 0-2 protected through a worker, then three windows with no worker: errors only, no incident.
      const w = startWorker(file);
      await ready(w);
      await service(config, store, evidence, remote).run(at(2000), { windows: 3 });
      w.child.kill('SIGTERM');
      await w.exited;
      const summaries = await service(config, store, evidence, remote).run(at(2030), { windows: 3 });
      assert.deepEqual(summaries.map((s) => [s.observations, s.errors]), Array(3).fill([world.steady.length, world.steady.length]));
      const late = evidence.records().slice(world.steady.length * 3);
      assert.ok(late.every((r) => r.status === 'error' && r.error?.code === 'OBSERVE_JOB_TIMEOUT'), JSON.stringify(late[0]));
      assert.equal(store.incidentRows.length, 0, 'errors are not incidents');
    } finally {
      await remote.close();
    }
  });
});
