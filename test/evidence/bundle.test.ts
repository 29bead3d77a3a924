import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportEvidenceBundle, openEvidenceLog, replayObservation, serializeBundle, verifyEvidenceBundle, type EvidenceBundle } from '../../src/evidence/index.js';
import { emblemTxtValues, encodeRecord, observation } from './fixtures.js';

const NOW = () => new Date('2026-11-01T12:00:00Z');
const TARGET = 'example.org';
const times = (i: number) => new Date(Date.parse('2026-11-01T10:00:00Z') + i * 600_000).toISOString();

let dir: string;
let pub: string;
let protectedStatus: string;
let bundleText: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emblem-evidence-bundle-'));
  const values = await emblemTxtValues(TARGET);
  const other = await emblemTxtValues('other.example');
  protectedStatus = (await replayObservation(observation(TARGET, times(0), 'vp1', values, '?'))).status!;
  const log = await openEvidenceLog(dir, { origin: 'observatory.test/evidence', now: NOW });
  // Ten windows: the emblem is removed from window 6 on, at both vantage points; another target is observed too.
  for (let i = 0; i < 10; i++) {
    for (const vp of ['vp1', 'vp2']) {
      const present = i < 6;
      await log.append(encodeRecord(observation(TARGET, times(i), vp, present ? values : [], present ? protectedStatus : 'no-emblem')));
      await log.append(encodeRecord(observation('other.example', times(i), vp, other, protectedStatus)));
    }
    if (i % 3 === 0) await log.publishCheckpoint();
  }
  await log.publishCheckpoint();
  await log.close();
  pub = readFileSync(join(dir, 'observer.pub'), 'utf8');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('evidence bundles', () => {
  it('the fixture is a protected emblem (real DNS wire, re-verified)', () => {
    assert.match(protectedStatus, /^(SIGNED|ORGANIZATIONAL|ENDORSED)-/);
  });

  it('export at the last protected observation shows it and the first missing one, per vantage point', async () => {
    const bundle = await exportEvidenceBundle({ evidenceDir: dir, target: TARGET, at: new Date(times(5)) });
    const records = bundle.entries.map((e) => JSON.parse(Buffer.from(e.entry, 'base64').toString('utf8')));
    const summary = records.map((r) => `${r.vantagePoint} ${r.time} ${r.status}`).sort();
    assert.deepEqual(summary, [
      `vp1 ${times(5)} ${protectedStatus}`,
      `vp1 ${times(6)} no-emblem`,
      `vp2 ${times(5)} ${protectedStatus}`,
      `vp2 ${times(6)} no-emblem`,
    ]);
    bundleText = serializeBundle(bundle);
    const v = await verifyEvidenceBundle(bundleText, pub);
    assert.equal(v.ok, true, JSON.stringify(v, null, 1));
    assert.deepEqual(v.entries.map((e) => e.recomputedStatus).sort(), [protectedStatus, protectedStatus, 'no-emblem', 'no-emblem'].sort());
    assert.match(v.notes.join(' '), /cannot be checked offline/);
  });

  it('export at the first missing observation still shows the last protected one', async () => {
    const bundle = await exportEvidenceBundle({ evidenceDir: dir, target: TARGET, at: new Date(times(6)) });
    const statuses = bundle.entries.map((e) => JSON.parse(Buffer.from(e.entry, 'base64').toString('utf8')).status);
    assert.ok(statuses.includes(protectedStatus) && statuses.includes('no-emblem'));
    assert.equal((await verifyEvidenceBundle(serializeBundle(bundle), pub)).ok, true);
  });

  it('uses the observation index when given (leaf indexes from the database), and --following', async () => {
    // Appended in order: for window i, vp1 target, vp1 other, vp2 target, vp2 other.
    const rows = Array.from({ length: 10 }, (_, i) => [
      { time: times(i), vantagePoint: 'vp1', status: i < 6 ? protectedStatus : 'no-emblem', leafIndex: i * 4 },
      { time: times(i), vantagePoint: 'vp2', status: i < 6 ? protectedStatus : 'no-emblem', leafIndex: i * 4 + 2 },
    ]).flat();
    let asked = 0;
    // As the stores answer: rows of the target in [from, to], earliest first, at most `limit`.
    const database = {
      observations: async (target: string, from: string, to: string, limit = 10_000) => (
        asked++, target === TARGET ? rows.filter((r) => r.time >= from && r.time <= to).slice(0, limit) : []
      ),
    };
    const bundle = await exportEvidenceBundle({ evidenceDir: dir, target: TARGET, at: new Date(times(5)), following: 2, database });
    // One slice before `at` holds both vantage points' last two observations, one after their next two.
    assert.equal(asked, 2);
    assert.deepEqual(bundle.entries.map((e) => e.leafIndex), [20, 22, 24, 26, 28, 30]);
    assert.equal((await verifyEvidenceBundle(serializeBundle(bundle), pub)).ok, true);
  });

  it('finds the observations next to `at` in a long history through the index (SQLite), past its 10,000-row cap', async () => {
    const { openObservatoryStore } = await import('../../src/store/database/index.js');
    const { StoreLimits } = await import('../../src/store/database/limits.js');
    const db = await openObservatoryStore(`sqlite:${join(dir, 'index.sqlite')}`);
    try {
      await db.migrate();
      // 400 days of 20-minute windows at two vantage points (57,600 rows) before the fixture's windows and 100 days
      // of hourly ones after them. The old rows point at other targets' entries: using one of them would fail the export.
      const day = 86_400_000;
      const start = Date.parse(times(0));
      const rows: Array<{ target: string; time: string; vantagePoint: string; status: string; leafIndex: number }> = [];
      const filler = (t: number, vp: string, k: number) => rows.push({ target: TARGET, time: new Date(t).toISOString(), vantagePoint: vp, status: protectedStatus, leafIndex: 1 + 2 * (k % 2) });
      let k = 0;
      for (let t = start - 400 * day; t < start; t += 1_200_000) for (const vp of ['vp1', 'vp2']) filler(t, vp, k++);
      for (let t = start + 10 * 600_000; t < start + 100 * day; t += 3_600_000) for (const vp of ['vp1', 'vp2']) filler(t, vp, k++);
      for (let i = 0; i < 10; i++) {
        rows.push({ target: TARGET, time: times(i), vantagePoint: 'vp1', status: i < 6 ? protectedStatus : 'no-emblem', leafIndex: i * 4 });
        rows.push({ target: TARGET, time: times(i), vantagePoint: 'vp2', status: i < 6 ? protectedStatus : 'no-emblem', leafIndex: i * 4 + 2 });
      }
      for (let i = 0; i < rows.length; i += 5_000) await db.addObservations(rows.slice(i, i + 5_000));
      assert.ok(rows.length > 5 * StoreLimits.maxObservationsPerQuery);
      let asked = 0;
      const database = { observations: (t: string, from: string, to: string, limit?: number) => (asked++, db.observations(t, from, to, limit)) };
      for (const [at, following] of [
        [times(5), 2], // the last protected (5), the first two missing (6, 7)
        [times(6), 1], // the first missing (6), the last protected before it (5), the next (7)
      ] as const) {
        asked = 0;
        const bundle = await exportEvidenceBundle({ evidenceDir: dir, target: TARGET, at: new Date(at), following, database });
        const expected = [20, 22, 24, 26, 28, 30];
        assert.deepEqual(bundle.entries.map((e) => e.leafIndex), expected, at);
        assert.ok(asked <= 8, `${asked} index queries`);
        assert.equal((await verifyEvidenceBundle(serializeBundle(bundle), pub)).ok, true);
      }
    } finally {
      await db.close();
    }
  });

  it('an unknown target is EVIDENCE_NOT_FOUND', async () => {
    await assert.rejects(exportEvidenceBundle({ evidenceDir: dir, target: 'nope.example', at: new Date(times(5)) }), { code: 'EVIDENCE_NOT_FOUND' });
  });

  it('flipping any single byte of the bundle fails verification with an EVIDENCE_* code', async () => {
    const bytes = Buffer.from(bundleText, 'utf8');
    const step = Math.max(1, Math.floor(bytes.length / 600));
    let tried = 0;
    for (let pos = 0; pos < bytes.length; pos += step) {
      for (const mask of [0x01, 0x20]) {
        const copy = Buffer.from(bytes);
        copy[pos]! ^= mask;
        const v = await verifyEvidenceBundle(copy.toString('utf8'), pub);
        const codes = [...v.errors, ...v.entries.flatMap((e) => e.errors)].map((e) => e.code);
        assert.equal(v.ok, false, `flip 0x${mask.toString(16)} at ${pos} passed`);
        assert.ok(codes.some((c) => String(c).startsWith('EVIDENCE_')), `flip at ${pos}: codes ${codes.join(',')}`);
        tried++;
      }
    }
    assert.ok(tried >= 600);
  });

  it('changed content with a recomputed digest still fails: inclusion, signature, status', async () => {
    const { createHash } = await import('node:crypto');
    const redo = (b: EvidenceBundle) => {
      const { digest: _d, ...body } = b;
      return serializeBundle({ ...body, digest: `sha256:${createHash('sha256').update(JSON.stringify(body)).digest('hex')}` });
    };
    const base = JSON.parse(bundleText) as EvidenceBundle;
    const codesOf = async (text: string) => {
      const v = await verifyEvidenceBundle(text, pub);
      assert.equal(v.ok, false);
      return [...v.errors, ...v.entries.flatMap((e) => e.errors)].map((e) => e.code);
    };
    // An entry whose status was edited no longer hashes to the proven leaf.
    const edited = structuredClone(base);
    const k = edited.entries.findIndex((e) => JSON.parse(Buffer.from(e.entry, 'base64').toString('utf8')).status === 'no-emblem');
    const record = JSON.parse(Buffer.from(edited.entries[k]!.entry, 'base64').toString('utf8'));
    record.status = protectedStatus;
    edited.entries[k]!.entry = Buffer.from(JSON.stringify(record)).toString('base64');
    assert.ok((await codesOf(redo(edited))).includes('EVIDENCE_INCLUSION_INVALID'));
    // Another leaf index.
    const moved = structuredClone(base);
    moved.entries[0]!.leafIndex += 1;
    assert.ok((await codesOf(redo(moved))).includes('EVIDENCE_INCLUSION_INVALID'));
    // A checkpoint with another root: the signature fails.
    const cp = structuredClone(base);
    cp.checkpoint = cp.checkpoint.replace(/\n(\d+)\n/, (_m, n) => `\n${Number(n) + 1}\n`);
    assert.deepEqual(await codesOf(redo(cp)), ['EVIDENCE_SIGNATURE_INVALID']);
    // Another observer's key.
    const other = 'someone+00000000+Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    assert.deepEqual((await verifyEvidenceBundle(bundleText, other)).errors.map((e) => e.code), ['EVIDENCE_KEY_INVALID']);
    // Another target.
    const t = structuredClone(base);
    t.target = 'example.net';
    assert.ok((await codesOf(redo(t))).includes('EVIDENCE_TARGET_MISMATCH'));
  });

  it('an observer that recorded a status its answers do not support is caught (EVIDENCE_STATUS_MISMATCH)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'emblem-evidence-lie-'));
    try {
      const log = await openEvidenceLog(d, { origin: 'liar', now: NOW });
      await log.append(encodeRecord(observation(TARGET, times(1), 'vp1', [], protectedStatus)));
      await log.publishCheckpoint();
      await log.close();
      const bundle = await exportEvidenceBundle({ evidenceDir: d, target: TARGET, at: new Date(times(1)) });
      const v = await verifyEvidenceBundle(serializeBundle(bundle), readFileSync(join(d, 'observer.pub'), 'utf8'));
      assert.equal(v.ok, false);
      assert.deepEqual(v.entries[0]!.errors.map((e) => e.code), ['EVIDENCE_STATUS_MISMATCH']);
      assert.equal(v.entries[0]!.recomputedStatus, 'no-emblem');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
