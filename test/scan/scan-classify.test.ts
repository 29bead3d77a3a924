// Acceptance 1: a 100,000-name zone on loopback (protected in both eras, expired, invalid, not-covered, no-emblem,
// nxdomain); `emblem scan` classifies every name as the per-name expectation file says.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildScanWorld, type ScanWorld } from './scan-fixture.js';
import { readResults, runScan, startDnsServer, tempDir, type RunningDnsServer } from './scan-helpers.js';

const NAMES = Number(process.env.SCAN_TEST_NAMES ?? 100_000);
const tmp = tempDir('emblem-scan-classify-');
let world: ScanWorld;
let server: RunningDnsServer;

before(async () => {
  world = await buildScanWorld(tmp.dir, NAMES);
  server = await startDnsServer(world.zoneFiles, join(tmp.dir, 'stats.json'));
});

after(async () => {
  await server?.stop();
  tmp.remove();
});

test(`scan classifies all ${NAMES} names of the test zone as expected`, { timeout: 900_000 }, async () => {
  const out = join(tmp.dir, 'results.jsonl');
  // --attempts 4: a loaded CI machine may drop a UDP datagram now and then; a retry must not turn into "error".
  const run = await runScan(['--input', world.inputFile, '--resolver', server.address, '--out', out, '--attempts', '4', '--timeout', '2000']);
  assert.equal(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { targets: number; byStatus: Record<string, number>; interrupted: boolean };
  assert.equal(summary.targets, NAMES);
  assert.equal(summary.interrupted, false);

  const expected = readFileSync(world.expectFile, 'utf8').replace(/\n$/, '').split('\n').map((l) => l.split('\t'));
  const results = readResults(out);
  assert.equal(results.length, NAMES);
  const wrong: string[] = [];
  results.forEach((r, i) => {
    assert.equal(r.index, i, 'results are in input order with their index');
    const [name, status, level] = expected[i]!;
    if (r.target !== name || r.status !== status || (r.level ?? '') !== level) wrong.push(`${i} ${r.target}: got ${r.status}/${r.level}, want ${name} ${status}/${level}`);
  });
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} names misclassified`);
  // Every category of the mix is present, so the comparison above covered each of them.
  for (const s of ['protected', 'not-covered', 'expired', 'invalid', 'no-emblem', 'nxdomain']) assert.ok((summary.byStatus[s] ?? 0) > 0, s);
  assert.equal(summary.byStatus.error ?? 0, 0);
  const eras = new Set(results.filter((r) => r.status === 'protected').map((r) => r.target.split('.')[1]));
  assert.deepEqual([...eras].sort(), ['pc', 'pj'], 'protected names of both eras (JWS TXT and CWT IHLE)');
});
