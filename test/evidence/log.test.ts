import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hashLeaf, MerkleTree, verifyConsistency, verifyInclusion } from '../../src/core/merkle/index.js';
import { auditEvidence, openEvidenceLog, parseCheckpoint, verifyCheckpoint } from '../../src/evidence/index.js';
import { TileTreeReader } from '../../src/evidence/tile-reader.js';

const NOW = () => new Date('2026-11-01T12:00:00Z');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'emblem-evidence-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const entry = (i: number) => new TextEncoder().encode(`entry ${i} ${'x'.repeat(i % 50)}`);

describe('evidence log', () => {
  it('creates the observer key (0600) and a verifier key in signed-note format', async () => {
    const dir = tempDir();
    const log = await openEvidenceLog(dir, { origin: 'observatory.test/log', now: NOW });
    assert.equal(statSync(join(dir, 'observer.key')).mode & 0o777, 0o600);
    const pub = readFileSync(join(dir, 'observer.pub'), 'utf8').trim();
    assert.match(pub, /^observatory\.test\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    assert.equal(pub, log.verifierKey);
    await log.close();
  });

  it('writes tlog-tiles (full and partial tiles, entry bundles) whose proofs verify against the signed checkpoint', async () => {
    const dir = tempDir();
    const log = await openEvidenceLog(dir, { origin: 'observatory.test/log', now: NOW });
    const ref = new MerkleTree();
    const sizes = [1, 255, 256, 257, 300, 3 * 256 + 5];
    let n = 0;
    const checkpoints: string[] = [];
    for (const target of sizes) {
      while (n < target) {
        assert.equal(await log.append(entry(n)), n);
        ref.appendLeaf(entry(n));
        n++;
      }
      const text = await log.publishCheckpoint();
      checkpoints.push(text);
      const cp = verifyCheckpoint(text, log.verifierKey, { origin: 'observatory.test/log' });
      assert.equal(cp.size, target);
      assert.deepEqual(cp.rootHash, ref.root(target));
      const reader = new TileTreeReader(dir, target);
      assert.deepEqual(await reader.root(), ref.root(target));
      for (const i of [0, target - 1, Math.floor(target / 2)]) {
        const proof = await reader.inclusionProof(i);
        assert.ok(verifyInclusion(i, target, hashLeaf(entry(i)), proof, cp.rootHash));
      }
    }
    // 773 leaves. Level 0: 3 full tiles + a partial of 5; level 1: a partial of 3 (one node per full level-0 tile).
    assert.ok(existsSync(join(dir, 'tile/0/002')));
    assert.ok(existsSync(join(dir, 'tile/0/003.p/5')));
    assert.ok(existsSync(join(dir, 'tile/1/000.p/3')));
    assert.equal(existsSync(join(dir, 'tile/2')), false);
    assert.ok(existsSync(join(dir, 'tile/entries/002')));
    assert.ok(existsSync(join(dir, 'tile/entries/003.p/5')));
    // Narrower partials of a tile are removed once a wider (or the full) one is published.
    assert.equal(existsSync(join(dir, 'tile/0/001.p')), false);
    assert.deepEqual(readdirSync(join(dir, 'tile/0/003.p')), ['5']);
    assert.deepEqual(readdirSync(join(dir, 'tile/1/000.p')), ['3']);
    // Old checkpoints are still provable from the tiles (prefixes of wider tiles).
    for (const old of checkpoints) {
      const r = await auditEvidence({ evidenceDir: dir, fromCheckpointText: old });
      assert.equal(r.ok, true, JSON.stringify(r.errors));
    }
    const reader = new TileTreeReader(dir, 257);
    assert.deepEqual(await reader.root(), ref.root(257));
    const proof = await new TileTreeReader(dir, n).consistencyProof(257);
    assert.ok(verifyConsistency(257, n, ref.root(257), ref.root(n), proof));
    await log.close();
  });

  it('reopens from the published checkpoint and drops appends it does not cover', async () => {
    const dir = tempDir();
    let log = await openEvidenceLog(dir, { origin: 'o', now: NOW });
    for (let i = 0; i < 300; i++) await log.append(entry(i));
    const published = await log.publishCheckpoint();
    for (let i = 300; i < 310; i++) await log.append(entry(i));
    await log.close();
    log = await openEvidenceLog(dir, { now: NOW });
    assert.equal(log.size, 300);
    assert.equal(log.origin, 'o');
    assert.equal(await log.append(entry(1000)), 300);
    const text = await log.publishCheckpoint();
    assert.equal(parseCheckpoint(text).size, 301);
    const audit = await auditEvidence({ evidenceDir: dir, fromCheckpointText: published });
    assert.equal(audit.ok, true);
    await log.close();
  });

  it('refuses another origin for an existing log, and an oversized entry', async () => {
    const dir = tempDir();
    const log = await openEvidenceLog(dir, { origin: 'one', now: NOW });
    await assert.rejects(log.append(new Uint8Array(65_536)), { code: 'EVIDENCE_ENTRY_TOO_LARGE' });
    await log.publishCheckpoint();
    await log.close();
    await assert.rejects(openEvidenceLog(dir, { origin: 'two', now: NOW }), { code: 'EVIDENCE_ORIGIN_MISMATCH' });
  });

  it('audit fails with a code for a forked history and for damaged tiles', async () => {
    const a = tempDir();
    const logA = await openEvidenceLog(a, { origin: 'fork', now: NOW });
    for (let i = 0; i < 20; i++) await logA.append(entry(i));
    await logA.publishCheckpoint();
    // Same key, other history: copy the key to a second directory.
    const b = tempDir();
    const { copyFileSync, writeFileSync } = await import('node:fs');
    copyFileSync(join(a, 'observer.key'), join(b, 'observer.key'));
    const logB = await openEvidenceLog(b, { now: NOW });
    for (let i = 0; i < 10; i++) await logB.append(entry(i + 1)); // different entries
    const forked = await logB.publishCheckpoint();
    const r = await auditEvidence({ evidenceDir: a, fromCheckpointText: forked });
    assert.equal(r.ok, false);
    assert.equal(r.errors[0]!.code, 'EVIDENCE_CONSISTENCY_INVALID');
    // Damage one leaf hash in a's level-0 tile.
    const tile = readFileSync(join(a, 'tile/0/000.p/20'));
    tile[5]! ^= 1;
    writeFileSync(join(a, 'tile/0/000.p/20'), tile);
    const r2 = await auditEvidence({ evidenceDir: a, fromCheckpointText: readFileSync(join(a, 'checkpoint'), 'utf8') });
    assert.equal(r2.errors[0]!.code, 'EVIDENCE_LOG_CORRUPT');
    await assert.rejects(openEvidenceLog(a, { now: NOW }), { code: 'EVIDENCE_LOG_CORRUPT' });
    await logA.close();
    await logB.close();
  });
});
