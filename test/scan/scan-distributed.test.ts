// Acceptance 3: two `emblem worker` processes against a real Redis (Debian redis-server), one killed with SIGKILL
// in the middle of a job: the output is complete, with no duplicates, and equals a local scan's.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLI } from '../helpers/cli.js';
import { redisAvailable, startRedis, type RunningRedis } from './redis-server.js';
import { buildScanWorld, type ScanWorld } from './scan-fixture.js';
import { runScan, spawnScan, startDnsServer, tempDir, waitFor, type RunningDnsServer } from './scan-helpers.js';

const NAMES = 6_000;
const haveRedis = redisAvailable();
// Without redis-server a developer machine skips; CI installs it (.ci/run) and must not silently skip.
const skip = !haveRedis && process.env.CI !== 'true' ? 'redis-server is not installed (apt-get install redis-server)' : false;

const tmp = tempDir('emblem-scan-queue-');
let world: ScanWorld;
let dns: RunningDnsServer;
let redis: RunningRedis;
const children: ChildProcess[] = [];

before(async () => {
  if (skip) return;
  assert.ok(haveRedis, 'CI=true: redis-server must be installed for the distributed scan tests');
  world = await buildScanWorld(tmp.dir, NAMES, undefined, 4);
  dns = await startDnsServer(world.zoneFiles, join(tmp.dir, 'stats.json'));
  redis = await startRedis();
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await dns?.stop();
  await redis?.stop();
  tmp.remove();
});

/** An `emblem worker` whose JSON-line log we can watch. */
function startWorker(): { child: ChildProcess; log: string[]; done: ReturnType<typeof waitFor> } {
  const child = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--resolver', dns.address, '--workers', '1', '--concurrency', '100'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const log: string[] = [];
  let buffered = '';
  child.stderr!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    log.push(...lines);
  });
  return { child, log, done: waitFor(child) };
}

const events = (log: string[], event: string) => log.map((l) => JSON.parse(l) as { event: string; job?: string }).filter((e) => e.event === event);

test('two workers, one killed mid-job: complete output, no duplicates', { skip, timeout: 600_000 }, async () => {
  const flags = ['--input', world.inputFile, '--attempts', '4', '--timeout', '2000'];
  const reference = join(tmp.dir, 'local.jsonl');
  const local = await runScan([...flags, '--resolver', dns.address, '--out', reference]);
  assert.equal(local.code, 0, local.stderr);

  const a = startWorker();
  const b = startWorker();
  const out = join(tmp.dir, 'distributed.jsonl');
  const scan = waitFor(spawnScan([...flags, '--queue', redis.url, '--out', out]));

  // Kill worker A while it holds a job it has not finished (a job-start without its job-done).
  let killedJob: string | undefined;
  for (let i = 0; i < 6000 && !killedJob; i++) {
    await new Promise((r) => setTimeout(r, 10));
    const done = new Set(events(a.log, 'job-done').map((e) => e.job));
    const open = events(a.log, 'job-start').filter((e) => !done.has(e.job));
    if (events(a.log, 'job-done').length >= 2 && open.length > 0) {
      a.child.kill('SIGKILL');
      killedJob = open[0]!.job;
    }
  }
  assert.ok(killedJob, 'worker A was killed in the middle of a job');
  await a.done;

  const run = await scan;
  assert.equal(run.code, 0, run.stderr);
  b.child.kill('SIGTERM');
  const bRun = await b.done;
  assert.equal(bRun.code, 0, bRun.stderr);
  assert.ok(events(b.log, 'job-done').some((e) => e.job === killedJob), 'the survivor processed the killed worker\'s job');

  const lines = readFileSync(out, 'utf8').split('\n').filter((l) => l !== '');
  assert.equal(lines.length, NAMES, 'one line per target');
  const indexes = lines.map((l) => (JSON.parse(l) as { index: number }).index);
  assert.equal(new Set(indexes).size, NAMES, 'no duplicates');
  assert.deepEqual(indexes, [...indexes.keys()], 'no gaps, input order');
  assert.equal(readFileSync(out, 'utf8'), readFileSync(reference, 'utf8'), 'same results as a local scan');
});
