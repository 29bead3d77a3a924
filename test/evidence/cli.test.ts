import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEvidenceLog } from '../../src/evidence/index.js';
import { runCli } from '../helpers/cli.js';
import { emblemTxtValues, encodeRecord, observation } from './fixtures.js';
import { replayObservation } from '../../src/evidence/replay.js';

const NOW = () => new Date('2026-11-01T12:00:00Z');
const t = (i: number) => new Date(Date.parse('2026-11-01T10:00:00Z') + i * 600_000).toISOString();
let dir: string;
let config: string;
let firstCheckpoint: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emblem-evidence-cli-'));
  const values = await emblemTxtValues('clinic.example');
  const status = (await replayObservation(observation('clinic.example', t(0), 'vp1', values, '?'))).status!;
  const log = await openEvidenceLog(join(dir, 'evidence'), { origin: 'cli.test/log', now: NOW });
  for (let i = 0; i < 4; i++) await log.append(encodeRecord(observation('clinic.example', t(i), 'vp1', i < 2 ? values : [], i < 2 ? status : 'no-emblem')));
  firstCheckpoint = await log.publishCheckpoint();
  await log.append(encodeRecord(observation('clinic.example', t(5), 'vp1', [], 'no-emblem')));
  await log.publishCheckpoint();
  await log.close();
  writeFileSync(join(dir, 'old-checkpoint'), firstCheckpoint);
  config = join(dir, 'observe.yaml');
  writeFileSync(config, 'targets: [clinic.example]\nvantagePoints: [{name: vp1, resolver: "127.0.0.1:53"}]\nwindowSeconds: 60\nevidenceDir: evidence\ndatabase: sqlite:observatory.db\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('emblem evidence', () => {
  it('export writes a bundle, verify passes offline (exit 0), a changed byte fails (exit 1)', async () => {
    const out = join(dir, 'bundle.json');
    const ex = await runCli(['evidence', 'export', '--config', config, '--target', 'clinic.example', '--at', t(1), '--out', out, '--json']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.deepEqual(JSON.parse(ex.stdout), { ok: true, out, entries: 2, treeSize: 5 });
    const again = await runCli(['evidence', 'export', '--config', config, '--target', 'clinic.example', '--at', t(1), '--out', out]);
    assert.equal(again.code, 2, 'an existing bundle is not overwritten without --force');
    assert.match(again.stderr, /FILE_EXISTS/);
    const pub = join(dir, 'evidence', 'observer.pub');
    const v = await runCli(['evidence', 'verify', out, '--observer-key', pub]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /^VERIFIED: 2 observation\(s\) of clinic\.example/);
    assert.match(v.stdout, /cannot be checked offline/);
    const bytes = readFileSync(out);
    bytes[Math.floor(bytes.length / 2)]! ^= 1;
    writeFileSync(join(dir, 'bad.json'), bytes);
    const bad = await runCli(['evidence', 'verify', join(dir, 'bad.json'), '--observer-key', pub, '--json']);
    assert.equal(bad.code, 1);
    assert.equal(JSON.parse(bad.stdout).ok, false);
  });

  it('export of an unknown target exits 1 with EVIDENCE_NOT_FOUND', async () => {
    const r = await runCli(['evidence', 'export', '--config', config, '--target', 'nope.example', '--at', t(1), '--json']);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).error.code, 'EVIDENCE_NOT_FOUND');
  });

  it('audit proves the current checkpoint consistent with an old one (exit 0); a forged one exits 1', async () => {
    const r = await runCli(['evidence', 'audit', '--config', config, '--from', join(dir, 'old-checkpoint'), '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.ok, j.from.size, j.to.size], [true, 4, 5]);
    writeFileSync(join(dir, 'forged'), firstCheckpoint.replace('\n4\n', '\n3\n'));
    const f = await runCli(['evidence', 'audit', '--config', config, '--from', join(dir, 'forged')]);
    assert.equal(f.code, 1);
    assert.match(f.stdout, /EVIDENCE_SIGNATURE_INVALID/);
  });

  it('audit of a directory without a log exits 3 (could not check); usage errors exit 2', async () => {
    writeFileSync(join(dir, 'empty.yaml'), 'evidenceDir: nowhere\n');
    const r = await runCli(['evidence', 'audit', '--config', join(dir, 'empty.yaml'), '--from', join(dir, 'old-checkpoint'), '--json']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).errors[0].code, 'EVIDENCE_UNAVAILABLE');
    assert.equal((await runCli(['evidence', 'verify', join(dir, 'missing.json'), '--observer-key', join(dir, 'x')])).code, 2);
    const help = await runCli(['evidence', 'verify', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes: 0/);
  });
});
