// Acceptance 1 and 2 (issue 3): the three live deployments, published by `emblem dns zone`, served by
// `emblem dns serve`, NSD and Knot on loopback; `emblem check` must agree with `emblem verify` on the files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { joinTxtPresentation } from '../../src/core/material/txt.js';
import { SHARED } from '../helpers/cli.js';
import { cli, comparable, FELIX_ADDRESS, INTEROP_AT, INTEROP_DNS, writeInteropZone } from './fixtures.js';
import { requireTool, startEmblemServer, startKnot, startNsd, tempDir, type RunningServer } from './servers.js';
import { thirdPartyEnv } from '../helpers/third-party.js';

const SETS = [
  { name: 'emblem.felixlinker.de', file: 'emblem.felixlinker.de.txt', status: 'protected', level: 'ENDORSED-UNTRUSTED', asset: `[${FELIX_ADDRESS}]` },
  { name: 'cyberstar.online', file: 'cyberstar.online.txt', status: 'protected', level: 'ORGANIZATIONAL-UNTRUSTED', asset: 'cyberstar.online' },
  // Published today at emblem.redcross.org.uk, but the emblem names adem.redcross.org.uk.
  { name: 'emblem.redcross.org.uk', file: 'emblem.redcross.org.uk.txt', status: 'not-covered', level: 'ORGANIZATIONAL-UNTRUSTED', asset: null },
  { name: 'adem.redcross.org.uk', file: 'emblem.redcross.org.uk.txt', status: 'protected', level: 'ORGANIZATIONAL-UNTRUSTED', asset: 'adem.redcross.org.uk' },
] as const;

interface CheckJson {
  target: string;
  status: string;
  level: string | null;
  sets: Array<Record<string, unknown> & { coveredBy: { asset: string } | null }>;
  discovery: { resolver: string; transport: string; truncated: boolean; records: { txt: number; ademTxt: number; ihle: number } };
}

async function check(port: number, name: string, extra: string[] = []): Promise<{ code: number; json: CheckJson }> {
  const res = await cli(['check', name, '--resolver', `127.0.0.1:${port}`, '--skip-commitment-check', '--json', ...extra]);
  assert.ok(res.stdout.startsWith('{'), `check printed no JSON: ${res.stderr}`);
  return { code: res.code, json: JSON.parse(res.stdout) as CheckJson };
}

async function verify(file: string, extra: string[] = []): Promise<{ code: number; json: Record<string, unknown> }> {
  const res = await cli(['verify', '--skip-commitment-check', '--json', join(INTEROP_DNS, file), ...extra]);
  return { code: res.code, json: JSON.parse(res.stdout) as Record<string, unknown> };
}

describe('live interop sets through the DNS (acceptance 1, 2)', () => {
  const dir = tempDir();
  let zone: string;
  let emblem: RunningServer;

  before(async () => {
    zone = await writeInteropZone(dir.path);
    emblem = await startEmblemServer([zone]);
  });
  after(async () => {
    await emblem?.stop();
    dir.remove();
  });

  test('the generated zone passes nsd-checkzone, kzonecheck and named-checkzone', (t) => {
    for (const [tool, args] of [
      ['nsd-checkzone', ['.', zone]],
      ['kzonecheck', ['-o', '.', zone]],
      ['named-checkzone', ['.', zone]],
    ] as const) {
      if (!requireTool(t, tool)) return;
      const r = spawnSync(tool, args, { encoding: 'utf8', env: thirdPartyEnv() });
      assert.equal(r.status, 0, `${tool}: ${r.stdout}${r.stderr}`);
    }
  });

  for (const set of SETS) {
    test(`emblem check ${set.name} agrees with emblem verify (as of ${INTEROP_AT})`, async () => {
      const v = await verify(set.file, ['--at', INTEROP_AT]);
      const c = await check(emblem.port, set.name, ['--at', INTEROP_AT]);
      assert.equal(c.json.status, set.status);
      assert.equal(c.json.level, set.level);
      assert.equal(c.json.sets.length, 1);
      assert.deepEqual(comparable(c.json.sets[0]!), comparable(v.json));
      assert.equal(c.json.sets[0]!.coveredBy?.asset ?? null, set.asset);
      assert.equal(c.code, set.status === 'protected' ? 0 : 1);
      assert.equal(v.code, 0);
      // Every one of these answers is larger than 1232 bytes: UDP comes back truncated, TCP is used and reported.
      assert.equal(c.json.discovery.truncated, true);
      assert.equal(c.json.discovery.transport, 'tcp');
      const lines = readFileSync(join(INTEROP_DNS, set.file), 'utf8').trim().split('\n');
      assert.equal(c.json.discovery.records.ademTxt, lines.length);
    });
  }

  test('expired sets: check reports "expired" where verify says INVALID (after their expiry)', async () => {
    const later = '2026-11-01T00:00:00Z';
    for (const set of SETS.filter((s) => s.file !== 'emblem.felixlinker.de.txt')) {
      const v = await verify(set.file, ['--at', later]);
      const c = await check(emblem.port, set.name, ['--at', later]);
      assert.equal(v.code, 1);
      assert.equal(c.code, 1);
      assert.equal(c.json.status, 'expired', set.name);
      assert.deepEqual(comparable(c.json.sets[0]!), comparable(v.json));
    }
  });

  test('a trusted key raises the level the same way in check and verify', async () => {
    const key = join(SHARED, 'interop', 'tokens', 'auth.felixlinker.de.pub.pem');
    const v = await verify('emblem.felixlinker.de.txt', ['--at', INTEROP_AT, '--trusted-key', key]);
    const c = await check(emblem.port, 'emblem.felixlinker.de', ['--at', INTEROP_AT, '--trusted-key', key]);
    assert.equal(c.json.level, 'ENDORSED-TRUSTED');
    assert.deepEqual(comparable(c.json.sets[0]!), comparable(v.json));
  });

  test('dig against emblem dns serve shows the records as published live', async (t) => {
    if (!requireTool(t, 'dig')) return;
    for (const set of SETS.slice(0, 3)) {
      const r = spawnSync('dig', ['@127.0.0.1', '-p', String(emblem.port), '+short', 'TXT', set.name], { encoding: 'utf8', env: thirdPartyEnv() });
      assert.equal(r.status, 0, r.stderr);
      const served = r.stdout.trim().split('\n').map(joinTxtPresentation).sort();
      const live = readFileSync(join(INTEROP_DNS, set.file), 'utf8').trim().split('\n').map(joinTxtPresentation).sort();
      assert.deepEqual(served, live);
    }
  });

  for (const real of ['nsd', 'knot'] as const) {
    test(`${real} serves the same zone file and emblem check gives identical results`, async (t) => {
      if (!requireTool(t, real === 'nsd' ? 'nsd' : 'knotd')) return;
      const server = real === 'nsd' ? await startNsd([{ origin: '.', file: zone }]) : await startKnot([{ origin: '.', file: zone }]);
      try {
        for (const set of SETS) {
          const ours = await check(emblem.port, set.name, ['--at', INTEROP_AT]);
          const theirs = await check(server.port, set.name, ['--at', INTEROP_AT]);
          assert.equal(theirs.json.status, ours.json.status, `${real} ${set.name}`);
          assert.equal(theirs.json.level, ours.json.level);
          assert.deepEqual(theirs.json.sets, ours.json.sets);
          assert.deepEqual(theirs.json.discovery.records, ours.json.discovery.records);
          assert.equal(theirs.json.discovery.truncated, true);
          assert.equal(theirs.code, ours.code);
        }
      } finally {
        await server.stop();
      }
    });
  }
});
