// Acceptance 2: kill -9 the scan at a random point twice, resume each time; the final output equals an
// uninterrupted run's, line for line after sorting (and, since results are written in input order, even unsorted).
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildScanWorld, type ScanWorld } from './scan-fixture.js';
import { runScan, spawnScan, startDnsServer, tempDir, waitFor, type RunningDnsServer } from './scan-helpers.js';

const NAMES = Number(process.env.SCAN_RESUME_NAMES ?? 10_000);
const tmp = tempDir('emblem-scan-resume-');
let world: ScanWorld;
let server: RunningDnsServer;

before(async () => {
  world = await buildScanWorld(tmp.dir, NAMES, undefined, 2);
  server = await startDnsServer(world.zoneFiles, join(tmp.dir, 'stats.json'));
});

after(async () => {
  await server?.stop();
  tmp.remove();
});

function sortedLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').sort();
}

/** Starts a scan and SIGKILLs it once its output file has grown past `bytes` (polling the file size). */
async function killWhenPast(args: string[], file: string, bytes: number): Promise<void> {
  const child = spawnScan(args);
  const done = waitFor(child);
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    let size = 0;
    try {
      size = statSync(file).size;
    } catch {
      // not created yet
    }
    if (size >= bytes || child.exitCode !== null) break;
  }
  child.kill('SIGKILL');
  const run = await done;
  assert.equal(run.signal, 'SIGKILL', 'the scan was killed before it finished (make the world larger if this fails)');
}

for (const output of ['jsonl', 'csv'] as const) {
  test(`kill -9 twice and --resume: ${output} output equals an uninterrupted run`, { timeout: 900_000 }, async () => {
    const common = ['--input', world.inputFile, '--resolver', server.address, '--attempts', '4', '--timeout', '2000', '--output', output];
    const reference = join(tmp.dir, `reference.${output}`);
    const full = await runScan([...common, '--out', reference]);
    assert.equal(full.code, 0, full.stderr);
    const fullSize = statSync(reference).size;

    const out = join(tmp.dir, `interrupted.${output}`);
    // Two random kill points: somewhere in the first half, then somewhere in what remains.
    const first = Math.floor(fullSize * (0.1 + Math.random() * 0.35));
    const second = Math.floor(fullSize * (0.55 + Math.random() * 0.3));
    await killWhenPast([...common, '--out', out], out, first);
    const afterFirst = statSync(out).size;
    await killWhenPast([...common, '--out', out, '--resume'], out, second);
    assert.ok(statSync(out).size > afterFirst, 'the first resume made progress');
    const last = await runScan([...common, '--out', out, '--resume']);
    assert.equal(last.code, 0, last.stderr);
    const summary = JSON.parse(last.stdout) as { targets: number; startIndex: number };
    assert.equal(summary.targets, NAMES, 'the summary counts the results of all three runs');
    assert.ok(summary.startIndex > 0 && summary.startIndex < NAMES);

    assert.deepEqual(sortedLines(out), sortedLines(reference));
    assert.equal(readFileSync(out, 'utf8'), readFileSync(reference, 'utf8'), 'and in the same order');

    // Resuming a finished scan writes nothing and changes nothing.
    const again = await runScan([...common, '--out', out, '--resume']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { writtenThisRun: number }).writtenThisRun, 0);
    assert.equal(readFileSync(out, 'utf8'), readFileSync(reference, 'utf8'));
  });
}

test('SIGTERM: in-flight targets are written, exit 143, and --resume completes the same output', { timeout: 900_000 }, async () => {
  const common = ['--input', world.inputFile, '--resolver', server.address, '--attempts', '4', '--timeout', '2000'];
  const reference = join(tmp.dir, 'reference.jsonl');
  const out = join(tmp.dir, 'terminated.jsonl');
  const child = spawnScan([...common, '--out', out]);
  const done = waitFor(child);
  const referenceSize = statSync(reference).size;
  for (let i = 0; i < 60_000; i++) {
    await new Promise((r) => setTimeout(r, 20));
    let size = 0;
    try {
      size = statSync(out).size;
    } catch {
      // not created yet
    }
    if (size >= referenceSize / 3 || child.exitCode !== null) break;
  }
  child.kill('SIGTERM');
  const run = await done;
  assert.equal(run.code, 143, run.stderr);
  const summary = JSON.parse(run.stdout) as { interrupted: boolean; targets: number };
  assert.equal(summary.interrupted, true);
  const text = readFileSync(out, 'utf8');
  assert.ok(text.endsWith('\n'), 'a graceful stop leaves no partial line');
  assert.equal(text.split('\n').length - 1, summary.targets, 'every counted result is in the file');
  const resumed = await runScan([...common, '--out', out, '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(readFileSync(out, 'utf8'), readFileSync(reference, 'utf8'));
});

test('an existing output file is never overwritten or appended to by accident', async () => {
  const out = join(tmp.dir, 'reference.jsonl');
  const run = await runScan(['--input', world.inputFile, '--resolver', server.address, '--out', out]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /exists: pass --resume/);
});
