import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { HASH_SIZE, hashLeaf, MerkleTree, TiledFrontier } from '../../src/core/merkle/index.js';
import { auditEvidence, EvidenceLimits, openEvidenceLog, parseCheckpoint, startEvidenceHttpServer, type EvidenceLog } from '../../src/evidence/index.js';
import { encodeEntryBundle, TileTreeReader } from '../../src/evidence/tile-reader.js';
import { evidenceTilePath, tilesAtLevel, TILE_HEIGHT, TILE_WIDTH, type EvidenceTileAddress } from '../../src/evidence/tile-path.js';
import { tempDir } from '../dns/servers.js';

/**
 * The evidence log keeps only the tree's right edge (TiledFrontier) and reads proofs from its tiles. These tests
 * hold it to the previous design, a MerkleTree of every node in memory: same roots, same tile bytes on disk and
 * over HTTP, same inclusion and consistency proofs, for many tree sizes and checkpoint cadences.
 */
const NOW = () => new Date('2026-11-01T12:00:00Z');
const dirs: Array<{ remove(): void }> = [];
after(() => dirs.forEach((d) => d.remove()));
const newDir = () => {
  const d = tempDir('emblem-evidence-frontier-');
  dirs.push(d);
  return d.path;
};

const leafHashOf = (i: number) => hashLeaf(Uint8Array.of(i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 7));
const entryOf = (i: number) => new TextEncoder().encode(`observation ${i} ${'y'.repeat(i % 37)}`);

/** The old computation of a hash tile: its nodes, taken from the full in-memory tree. */
function tileFromTree(ref: MerkleTree, level: number, index: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * HASH_SIZE);
  for (let k = 0; k < width; k++) out.set(ref.node(level * height, index * 2 ** height + k)!, k * HASH_SIZE);
  return out;
}

describe('TiledFrontier (right edge only) against MerkleTree (every node)', () => {
  it('gives the same root, full tiles and partial tiles at every size (small tiles: many levels)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 700 }), (height, size) => {
        const f = new TiledFrontier(height);
        const ref = new MerkleTree();
        const width = 2 ** height;
        for (let i = 0; i < size; i++) {
          const { index, completed } = f.appendLeafHash(leafHashOf(i));
          assert.equal(index, ref.appendLeafHash(leafHashOf(i)));
          for (const t of completed) assert.deepEqual(t.data, tileFromTree(ref, t.level, t.index, width, height));
        }
        assert.equal(f.size, size);
        assert.deepEqual(f.root(), ref.root());
        const partials = f.partialTiles();
        for (const t of partials) assert.deepEqual(t.data, tileFromTree(ref, t.level, t.index, t.width, height));
        // One partial tile per level whose node count is not a multiple of the width, none elsewhere.
        const expected: number[] = [];
        for (let l = 0; Math.floor(size / width ** l) > 0; l++) if (Math.floor(size / width ** l) % width !== 0) expected.push(l);
        assert.deepEqual(partials.map((t) => t.level), expected);
      }),
      { numRuns: 150 },
    );
  });

  it('rebuilds from its partial tiles alone and goes on appending identically', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: 60 }), async (height, size, more) => {
        const f = new TiledFrontier(height);
        const ref = new MerkleTree();
        for (let i = 0; i < size; i++) {
          f.appendLeafHash(leafHashOf(i));
          ref.appendLeafHash(leafHashOf(i));
        }
        const reads: string[] = [];
        const g = await TiledFrontier.fromPartialTiles(size, async (level, index, width) => {
          reads.push(`${level}/${index}`);
          return tileFromTree(ref, level, index, width, height);
        }, height);
        assert.ok(reads.length <= Math.ceil(Math.log2(size + 1) / height) + 1, `read ${reads.length} tiles for ${size} leaves`);
        assert.deepEqual(g.root(), ref.root());
        for (let i = size; i < size + more; i++) {
          const a = f.appendLeafHash(leafHashOf(i));
          assert.deepEqual(g.appendLeafHash(leafHashOf(i)), a);
        }
        assert.deepEqual(g.root(), f.root());
      }),
      { numRuns: 60 },
    );
  });
});

/** Every tile (hash and entry) of the tree of `size` leaves, as the old log wrote it from its MerkleTree. */
function expectedTiles(ref: MerkleTree, entries: Uint8Array[], size: number): Array<{ address: EvidenceTileAddress; data: Uint8Array }> {
  const out: Array<{ address: EvidenceTileAddress; data: Uint8Array }> = [];
  for (const t of tilesAtLevel(size, 'entries')) out.push({ address: t, data: encodeEntryBundle(entries.slice(t.index * TILE_WIDTH, t.index * TILE_WIDTH + t.width)) });
  for (let level = 0; Math.floor(size / 2 ** (TILE_HEIGHT * level)) > 0; level++) {
    for (const t of tilesAtLevel(size, level)) out.push({ address: t, data: tileFromTree(ref, level, t.index, t.width, TILE_HEIGHT) });
  }
  return out;
}

describe('evidence log on the right edge: byte-identical tiles, proofs and HTTP responses', () => {
  it('matches the full-tree computation for random append/checkpoint/reopen sequences', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ appends: fc.integer({ min: 0, max: 700 }), reopen: fc.boolean() }), { minLength: 1, maxLength: 4 }),
        async (steps) => {
          const dir = newDir();
          let log: EvidenceLog = await openEvidenceLog(dir, { origin: 'frontier.test/log', now: NOW });
          const ref = new MerkleTree();
          const entries: Uint8Array[] = [];
          const sizes: number[] = [];
          for (const step of steps) {
            for (let k = 0; k < step.appends; k++) {
              const e = entryOf(entries.length);
              assert.equal(await log.append(e), entries.length);
              entries.push(e);
              ref.appendLeaf(e);
            }
            const size = entries.length;
            const cp = parseCheckpoint(await log.publishCheckpoint());
            assert.equal(cp.size, size);
            assert.deepEqual(cp.rootHash, ref.root(size));
            sizes.push(size);
            for (const { address, data } of expectedTiles(ref, entries, size)) {
              // The newest version of each tile is on disk under its own name (narrower partials are gone).
              assert.deepEqual(new Uint8Array(readFileSync(join(dir, evidenceTilePath(address)))), data, evidenceTilePath(address));
            }
            const reader = new TileTreeReader(dir, size);
            for (const i of new Set([0, size - 1, Math.floor(size / 3), Math.floor((2 * size) / 3)])) {
              if (i >= 0 && i < size) assert.deepEqual(await reader.inclusionProof(i), ref.inclusionProof(i, size));
            }
            for (const old of sizes) assert.deepEqual(await reader.consistencyProof(old), ref.consistencyProof(old, size));
            if (step.reopen) {
              await log.close();
              log = await openEvidenceLog(dir, { now: NOW });
              assert.equal(log.size, size);
            }
          }
          // Older tree sizes: the reader (and so export/audit) serves them from prefixes, as before.
          for (const old of sizes) {
            if (old === 0) continue;
            assert.deepEqual(await new TileTreeReader(dir, old).root(), ref.root(old));
            assert.deepEqual(await new TileTreeReader(dir, entries.length).inclusionProof(old - 1), ref.inclusionProof(old - 1, entries.length));
          }
          // Over HTTP: every tile of every published size, byte for byte.
          const server = await startEvidenceHttpServer(dir, '127.0.0.1:0');
          try {
            for (const old of new Set(sizes)) {
              for (const { address, data } of expectedTiles(ref, entries, old)) {
                const res = await fetch(`${server.url}/${evidenceTilePath(address)}`);
                assert.equal(res.status, 200, evidenceTilePath(address));
                assert.deepEqual(new Uint8Array(await res.arrayBuffer()), data, evidenceTilePath(address));
              }
            }
          } finally {
            await server.close();
          }
          await log.close();
        },
      ),
      { numRuns: 6 },
    );
  });

  it('reopens from the right-edge tiles only: a missing full tile on the left does not stop it (proofs needing it fail)', async () => {
    const dir = newDir();
    let log = await openEvidenceLog(dir, { origin: 'o', now: NOW });
    for (let i = 0; i < 3 * 256 + 5; i++) await log.append(entryOf(i));
    const published = await log.publishCheckpoint();
    await log.close();
    rmSync(join(dir, 'tile/0/000'));
    log = await openEvidenceLog(dir, { now: NOW });
    assert.equal(log.size, 3 * 256 + 5);
    await log.close();
    // The root and the right edge need no left tile; a proof for leaf 0 does, and says so with a code.
    assert.equal((await auditEvidence({ evidenceDir: dir, fromCheckpointText: published })).ok, true);
    await assert.rejects(new TileTreeReader(dir, 3 * 256 + 5).inclusionProof(0), { code: 'EVIDENCE_UNAVAILABLE' });
  });

  it('writes filled tiles before any checkpoint (in the background, or in append past the bound), and publishes nothing until asked', async () => {
    const dir = newDir();
    const log = await openEvidenceLog(dir, { origin: 'o', now: NOW });
    const big = new Uint8Array(EvidenceLimits.maxEntryBytes).fill(0x42);
    const perBundle = TILE_WIDTH * (big.length + 2);
    const bundles = Math.floor(EvidenceLimits.maxPendingTileBytes / perBundle) + 1;
    for (let i = 0; i < bundles * TILE_WIDTH; i++) await log.append(big);
    // The bound was passed: the filled bundles and level-0 tiles are on disk, but no checkpoint points at them.
    assert.ok(existsSync(join(dir, 'tile/entries/000')));
    assert.ok(existsSync(join(dir, 'tile/0/000')));
    assert.equal(existsSync(join(dir, 'checkpoint')), false);
    const cp = parseCheckpoint(await log.publishCheckpoint());
    assert.equal(cp.size, bundles * TILE_WIDTH);
    assert.deepEqual(await new TileTreeReader(dir, cp.size).root(), cp.rootHash);
    assert.deepEqual(readdirSync(join(dir, 'tile/entries')).sort(), Array.from({ length: bundles }, (_, i) => String(i).padStart(3, '0')));
    await log.close();
  });
});
