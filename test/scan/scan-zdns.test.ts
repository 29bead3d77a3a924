// Acceptance 4: ZDNS input (answers already fetched) sends zero DNS queries, asserted through the query counter of
// the authoritative server that holds the very names being scanned.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildScanWorld, type ScanWorld } from './scan-fixture.js';
import { readResults, runScan, startDnsServer, tempDir } from './scan-helpers.js';

const NAMES = 5_000;
const tmp = tempDir('emblem-scan-zdns-');
let world: ScanWorld;

before(async () => {
  world = await buildScanWorld(tmp.dir, NAMES, undefined, 3);
});

after(() => tmp.remove());

test('ZDNS input: every name classified, and the server counts zero queries', { timeout: 300_000 }, async () => {
  const server = await startDnsServer(world.zoneFiles, join(tmp.dir, 'stats.json'));
  let stats;
  const out = join(tmp.dir, 'zdns.jsonl');
  try {
    const run = await runScan(['--input', world.zdnsFile, '--format', 'zdns', '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { dnsQueries: number }).dnsQueries, 0);
  } finally {
    stats = await server.stop();
  }
  assert.equal(stats.queries, 0, 'the DNS server saw no query at all');

  const expected = readFileSync(world.expectFile, 'utf8').replace(/\n$/, '').split('\n').map((l) => l.split('\t'));
  const results = readResults(out);
  assert.equal(results.length, NAMES);
  results.forEach((r, i) => {
    const [name, status, level] = expected[i]!;
    assert.deepEqual([r.target, r.status, r.level ?? ''], [name, status, level], `line ${i}`);
  });
});

test('--format zdns refuses --resolver: it must not send queries', async () => {
  const run = await runScan(['--input', world.zdnsFile, '--format', 'zdns', '--resolver', '127.0.0.1:53']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /sends no queries/);
});
