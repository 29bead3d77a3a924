// Acceptance 3 (issue 3): a CWT-era chain signed by the CLI, published as IHLE records, found by `emblem check`
// through the Additional section of an A query and through a direct IHLE query, on our server, NSD and Knot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, signCwtChain, type CwtChain } from './fixtures.js';
import { CLI_VERIFY_AT } from '../helpers/cli.js';
import { requireTool, startEmblemServer, startKnot, startNsd, tempDir, type RunningServer } from './servers.js';
import { thirdPartyEnv } from '../helpers/third-party.js';

interface CheckJson {
  status: string;
  level: string | null;
  sets: Array<{ era: string; protected: string[]; commitment: string }>;
  discovery: { transport: string; records: { ihle: number; ihleFromAdditional: number }; queries: Array<{ qtype: string }> };
}

/** One fixed verification time for every comparison (the chain is signed "now" and valid for 7 days). */
const AT = CLI_VERIFY_AT;

async function check(port: number, name: string, extra: string[]): Promise<{ code: number; json: CheckJson }> {
  const res = await cli(['check', name, '--resolver', `127.0.0.1:${port}`, '--skip-commitment-check', '--json', '--at', AT, ...extra]);
  assert.ok(res.stdout.startsWith('{'), res.stderr);
  return { code: res.code, json: JSON.parse(res.stdout) as CheckJson };
}

describe('CWT era through IHLE records (acceptance 3)', () => {
  const dir = tempDir();
  let chain: CwtChain;
  let zone: string;
  let emblem: RunningServer;

  before(async () => {
    chain = await signCwtChain(dir.path, 'ihle.example.org');
    const res = await cli([
      'dns', 'zone', '--origin', 'example.org', '--name', 'ihle.example.org', '--era', 'cwt', '--serial', '1',
      '--address', 'ihle.example.org=192.0.2.10',
      chain.emblem, chain.endorsement, chain.rootPub, chain.emblemPub,
    ]);
    assert.equal(res.code, 0, res.stderr);
    zone = join(dir.path, 'example.org.zone');
    writeFileSync(zone, res.stdout);
    emblem = await startEmblemServer([zone]);
  });
  after(async () => {
    await emblem?.stop();
    dir.remove();
  });

  test('the zone holds 4 IHLE records in RFC 3597 syntax and passes the three checkzone tools', (t) => {
    const text = spawnSync('cat', [zone], { encoding: 'utf8' }).stdout;
    assert.equal(text.match(/\tTYPE65400\t\\# \d+ [0-9A-F]+$/gm)?.length, 4, 'emblem, endorsement and two COSE_Keys');
    assert.ok(!/\tTXT\t/.test(text), '--era cwt publishes no TXT');
    for (const [tool, args] of [
      ['nsd-checkzone', ['example.org', zone]],
      ['kzonecheck', ['-o', 'example.org', zone]],
      ['named-checkzone', ['example.org', zone]],
    ] as const) {
      if (!requireTool(t, tool)) return;
      const r = spawnSync(tool, args, { encoding: 'utf8', env: thirdPartyEnv() });
      assert.equal(r.status, 0, `${tool}: ${r.stdout}${r.stderr}`);
    }
  });

  test('emblem check finds the chain in the Additional section of an A query (DNS-02)', async () => {
    const { code, json } = await check(emblem.port, 'ihle.example.org', ['--era', 'cwt', '--query-type', 'A']);
    assert.equal(json.status, 'protected');
    assert.equal(json.level, 'ORGANIZATIONAL-UNTRUSTED');
    assert.equal(json.sets[0]!.era, 'cwt');
    assert.deepEqual(json.sets[0]!.protected, ['ihle.example.org']);
    assert.equal(json.discovery.records.ihle, 4);
    assert.equal(json.discovery.records.ihleFromAdditional, 4);
    assert.deepEqual(json.discovery.queries.map((q) => q.qtype), ['A']);
    assert.equal(code, 0);
  });

  test('emblem check finds the chain with a direct IHLE query', async () => {
    const { json } = await check(emblem.port, 'ihle.example.org', ['--era', 'cwt']);
    assert.equal(json.status, 'protected');
    assert.equal(json.discovery.records.ihleFromAdditional, 0);
    assert.deepEqual(json.discovery.queries.map((q) => q.qtype), ['IHLE']);
  });

  test('the same result as emblem verify on the files', async () => {
    const v = await cli(['verify', '--skip-commitment-check', '--json', '--at', AT, chain.emblem, chain.endorsement, chain.rootPub, chain.emblemPub]);
    const { json } = await check(emblem.port, 'ihle.example.org', ['--era', 'cwt']);
    const report = JSON.parse(v.stdout) as { result: string[]; protected: string[]; issuer: string };
    assert.deepEqual((json.sets[0] as unknown as { result: string[] }).result, report.result);
    assert.deepEqual(json.sets[0]!.protected, report.protected);
  });

  for (const real of ['nsd', 'knot'] as const) {
    test(`${real} serves the IHLE records (unknown type) and emblem check finds them by direct query`, async (t) => {
      if (!requireTool(t, real === 'nsd' ? 'nsd' : 'knotd')) return;
      const server = real === 'nsd' ? await startNsd([{ origin: 'example.org', file: zone }]) : await startKnot([{ origin: 'example.org', file: zone }]);
      try {
        const ours = await check(emblem.port, 'ihle.example.org', ['--era', 'cwt']);
        const theirs = await check(server.port, 'ihle.example.org', ['--era', 'cwt']);
        assert.equal(theirs.json.status, 'protected');
        assert.deepEqual(theirs.json.sets, ours.json.sets);
        // era "any" falls back to a direct IHLE query when the TXT answer brought none (no DNS-02 additional processing).
        const any = await check(server.port, 'ihle.example.org', []);
        assert.equal(any.json.status, 'protected');
        assert.deepEqual(any.json.discovery.queries.map((q) => q.qtype), ['TXT', 'IHLE']);
        // Without DNS-02 support, an A query brings no IHLE records: documented, not hidden.
        const viaA = await check(server.port, 'ihle.example.org', ['--era', 'cwt', '--query-type', 'A']);
        assert.equal(viaA.json.status, 'no-emblem');
      } finally {
        await server.stop();
      }
    });
  }
});
