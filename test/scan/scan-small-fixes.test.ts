// Issue 9 §7, scan: --resume refuses another input; progress is targets done over targets in the input with an
// ETA that is unknown (not 0) before there is a rate; "found" counts protected targets only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ProgressReporter, type ScanProgress } from '../../src/validator/progress.js';
import { ResultCollector } from '../../src/validator/result-collector.js';
import type { LineSink } from '../../src/validator/result-writer.js';
import { ScanSummary } from '../../src/validator/scan-summary.js';
import { readTargets } from '../../src/validator/target-reader.js';
import { CLI, runCli } from '../helpers/cli.js';
import { SCAN_AT, buildScanWorld, type ScanWorld } from './scan-fixture.js';
import { readResults, runScan, SCAN_FLAGS, startDnsServer, tempDir, waitFor } from './scan-helpers.js';

const NAMES = 1_000;
const tmp = tempDir('emblem-scan-small-');
const file = (name: string) => join(tmp.dir, name);
let world: ScanWorld;

before(async () => {
  world = await buildScanWorld(tmp.dir, NAMES, undefined, 11);
});

after(() => tmp.remove());

describe('--resume checks that the input is the one the output was scanned from', () => {
  // ZDNS input: no DNS query, so these scans are quick and exact.
  const lines = () => readFileSync(world.zdnsFile, 'utf8').split('\n').filter((l) => l !== '');

  test('another input file is refused with RESUME_MISMATCH, and the output is left as it was', async () => {
    writeFileSync(file('first-half.zdns'), `${lines().slice(0, 500).join('\n')}\n`);
    writeFileSync(file('second-half.zdns'), `${lines().slice(500).join('\n')}\n`);
    const out = file('half.jsonl');
    const first = await runScan(['--input', file('first-half.zdns'), '--format', 'zdns', '--out', out]);
    assert.equal(first.code, 0, first.stderr);
    const original = readFileSync(out, 'utf8');

    const other = await runScan(['--input', file('second-half.zdns'), '--format', 'zdns', '--out', out, '--resume']);
    assert.equal(other.code, 2, other.stdout);
    assert.match(other.stderr, /RESUME_MISMATCH/);
    assert.match(other.stderr, /--input is not the input/);
    assert.equal(readFileSync(out, 'utf8'), original, 'nothing appended');

    // Same size, different content: one name changed in the middle of the file.
    const input = readFileSync(file('first-half.zdns'), 'utf8');
    const middle = input.indexOf('"name":"n', input.length >> 1) + 9;
    const edited = `${input.slice(0, middle)}m${input.slice(middle + 1)}`;
    assert.notEqual(edited, input);
    assert.equal(Buffer.byteLength(edited), Buffer.byteLength(input));
    writeFileSync(file('edited.zdns'), edited);
    const changed = await runScan(['--input', file('edited.zdns'), '--format', 'zdns', '--out', out, '--resume']);
    assert.equal(changed.code, 2, changed.stdout);
    assert.match(changed.stderr, /same size, different content.*RESUME_MISMATCH/);

    const format = await runScan(['--input', file('first-half.zdns'), '--format', 'names', '--out', out, '--resume']);
    assert.equal(format.code, 2, format.stdout);
    assert.match(format.stderr, /--format zdns scan, not --format names/);
  });

  test('the same input, even copied elsewhere, resumes; the interrupted output is completed', async () => {
    const out = file('resumed.jsonl');
    const full = await runScan(['--input', world.zdnsFile, '--format', 'zdns', '--out', out]);
    assert.equal(full.code, 0, full.stderr);
    // Simulate an interruption after 300 results (and a torn line), then resume from a copy of the input.
    const results = readFileSync(out, 'utf8').split('\n');
    writeFileSync(out, `${results.slice(0, 300).join('\n')}\n{"index":300,"tar`);
    copyFileSync(world.zdnsFile, file('copy.zdns'));
    const resumed = await runScan(['--input', file('copy.zdns'), '--format', 'zdns', '--out', out, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout).startIndex, 300);
    assert.deepEqual(readResults(out).map((r) => r.index), [...Array(NAMES).keys()]);
  });

  test('an output scanned from standard input cannot be resumed from a file (nothing to compare)', async () => {
    const out = file('stdin.jsonl');
    const child = spawn(process.execPath, [CLI, 'scan', ...SCAN_FLAGS, '--format', 'zdns', '--out', out], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin!.end(readFileSync(world.zdnsFile));
    const first = await waitFor(child);
    assert.equal(first.code, 0, first.stderr);
    const resumed = await runScan(['--input', world.zdnsFile, '--format', 'zdns', '--out', out, '--resume']);
    assert.equal(resumed.code, 2, resumed.stdout);
    assert.match(resumed.stderr, /scanned from standard input.*RESUME_MISMATCH/);
  });

  test('--force starts over and records the new input', async () => {
    const out = file('half.jsonl');
    const forced = await runScan(['--input', file('second-half.zdns'), '--format', 'zdns', '--out', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    const resumed = await runScan(['--input', file('second-half.zdns'), '--format', 'zdns', '--out', out, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout).startIndex, 500);
  });
});

/** A stream that keeps what is written; `isTTY` as asked. */
function capture(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { isTTY: boolean; text: () => string };
  out.isTTY = isTTY;
  out.text = () => chunks.join('');
  return out;
}

/** The input as one chunk, as a file under 256 KiB is read. */
async function* chunks(...parts: Array<string | Uint8Array>): AsyncGenerator<string | Uint8Array> {
  yield* parts;
}

const nullSink: LineSink = { write: async () => undefined, close: async () => undefined } as unknown as LineSink;

describe('progress', () => {
  test('1,000 names read in one chunk: the total is estimated from the lines read, not taken as 100 % done', async () => {
    const names = Array.from({ length: NAMES }, (_, i) => `name${String(i).padStart(4, '0')}.example`).join('\n') + '\n';
    const bytes = Buffer.byteLength(names);
    const collector = new ResultCollector(nullSink, 0, new ScanSummary(), undefined, bytes);
    assert.deepEqual(collector.total(), { total: null, totalExact: false }, 'nothing read yet: unknown');
    const targets = readTargets(chunks(Buffer.from(names)), { format: 'names', ihleType: 65_400, onLine: collector.inputLine });
    const iterator = targets[Symbol.asyncIterator]();
    await iterator.next();
    const first = collector.total();
    assert.equal(first.totalExact, false);
    assert.ok(Math.abs(first.total! - NAMES) < 1, `estimated ${first.total}`);
    for (let r = await iterator.next(); !r.done; r = await iterator.next());
    collector.inputEnded();
    assert.deepEqual(collector.total(), { total: NAMES, totalExact: true });
    collector.stopProgress();
  });

  test('without the input size (standard input) the total is unknown until the end', async () => {
    const collector = new ResultCollector(nullSink, 0, new ScanSummary(), undefined, undefined);
    for await (const _ of readTargets(chunks('a.example\nb.example\n'), { format: 'names', ihleType: 65_400, onLine: collector.inputLine })) {
      assert.equal(collector.total().total, null);
    }
    collector.inputEnded();
    assert.deepEqual(collector.total(), { total: 2, totalExact: true });
  });

  test('a resumed run counts the skipped targets into the total', async () => {
    const collector = new ResultCollector(nullSink, 3, new ScanSummary(), undefined, undefined);
    for await (const _ of readTargets(chunks('a\nb\nc\nd\ne\n'), { format: 'names', skip: 3, ihleType: 65_400, onLine: collector.inputLine }));
    collector.inputEnded();
    assert.deepEqual(collector.total(), { total: 5, totalExact: true });
  });

  test('bar and JSON: 0 % and ETA unknown at the start, ETA from the rate later, never 100 % before the end', () => {
    let now = 0;
    let p: ScanProgress = { done: 0, doneThisRun: 0, found: 0, errors: 0, total: 1000, totalExact: false };
    const tty = capture(true);
    const bar = new ProgressReporter(tty, () => p, () => now);
    const json = capture(false);
    const lines = new ProgressReporter(json, () => p, () => now);
    now = 1000;
    bar.report();
    lines.report();
    assert.match(tty.text(), /\[\.{24}\]\s+~0% 0 targets .* ETA \?/);
    let event = JSON.parse(json.text().trim().split('\n').at(-1)!);
    assert.equal(event.etaSeconds, null);
    assert.equal(event.total, 1000);

    p = { ...p, done: 250, doneThisRun: 250, found: 10 };
    now = 10_000; // 250 targets in 10 s: 750 left at 25/s
    bar.report();
    lines.report();
    assert.match(tty.text(), /~25% 250 targets .*found 10 .*ETA 0:30/);
    event = JSON.parse(json.text().trim().split('\n').at(-1)!);
    assert.equal(event.etaSeconds, 30);

    p = { ...p, done: 999, doneThisRun: 999 };
    lines.report();
    assert.equal(JSON.parse(json.text().trim().split('\n').at(-1)!).etaSeconds, 1, 'one target left is not ETA 0');
    assert.equal(event.found, 10);

    p = { ...p, total: null };
    bar.report();
    lines.report();
    assert.match(tty.text().split('\r').at(-1)!, /^\[total unknown\] 999 targets/);
    event = JSON.parse(json.text().trim().split('\n').at(-1)!);
    assert.equal(event.total, null);
    assert.equal(event.etaSeconds, null);
  });

  test('found counts protected targets only (expired, invalid and not-covered emblems are not found)', () => {
    const summary = new ScanSummary();
    for (const status of ['protected', 'protected', 'expired', 'invalid', 'not-covered', 'no-emblem', 'nxdomain', 'error'] as const) {
      summary.add({ index: summary.targets, status, level: status === 'protected' || status === 'not-covered' ? 'SIGNED-UNTRUSTED' : null, issuer: null, endorsers: [] } as never);
    }
    assert.equal(summary.found, 2);
  });

  test('a rate-limited scan of 1,000 names: progress lines carry a total and no zero ETA before the end; found = protected', { timeout: 600_000 }, async () => {
    const server = await startDnsServer(world.zoneFiles, file('progress-stats.json'));
    let run;
    try {
      // --qps 300 makes the scan last several seconds (about 1,650 queries), so progress lines are written.
      const args = ['scan', '--skip-commitment-check', '--at', SCAN_AT, '--json', '--input', world.inputFile, '--resolver', server.address, '--qps', '300', '--out', file('progress.jsonl')];
      run = await waitFor(spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    } finally {
      await server.stop();
    }
    assert.equal(run.code, 0, run.stderr);
    const events = run.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const progress = events.filter((e) => e.event === 'progress');
    assert.ok(progress.length > 0, `progress lines: ${run.stderr}`);
    for (const e of progress) {
      assert.notEqual(e.total, null, JSON.stringify(e));
      assert.ok(Math.abs((e.total as number) - NAMES) <= NAMES * 0.1, `total near ${NAMES}: ${JSON.stringify(e)}`);
      if ((e.targets as number) < NAMES) assert.notEqual(e.etaSeconds, 0, `no zero ETA with targets left: ${JSON.stringify(e)}`);
    }
    const done = events.find((e) => e.event === 'done')!;
    const protectedCount = world.expectations.filter((x) => x.status === 'protected').length;
    assert.deepEqual([done.targets, done.total, done.totalExact, done.found], [NAMES, NAMES, true, protectedCount]);
    assert.equal(JSON.parse(run.stdout).byStatus.protected, protectedCount);
  });
});

test('a queue whose Redis never answers: `scan --queue` and `worker` print QUEUE_UNREACHABLE and exit 2, not hang', async () => {
  // Port 1 on loopback: nothing listens (connection refused), so ioredis would reconnect forever.
  writeFileSync(file('queue-names.txt'), 'a.example\nb.example\n');
  const runs = await Promise.all([
    runCli(['scan', '--input', file('queue-names.txt'), '--queue', 'redis://127.0.0.1:1/0', '--out', file('queue-out.jsonl'), '--skip-commitment-check', '--at', SCAN_AT], { timeoutMs: 45_000 }),
    runCli(['worker', '--queue', 'redis://127.0.0.1:1/0', '--resolver', '127.0.0.1:9'], { timeoutMs: 45_000 }),
  ]);
  for (const r of runs) {
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /QUEUE_UNREACHABLE/);
  }
});
