import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { consistencyProofRanges, EMPTY_TREE_ROOT, hashFromNodes, inclusionProofRanges, MerkleTree, rangeNodes, HASH_SIZE, type LeafRange } from '../core/merkle/index.js';
import { evidenceError, EvidenceErrorCodes } from './errors.js';
import { EvidenceLimits } from './limits.js';
import { evidenceTilePath, nodesAtTileLevel, TILE_HEIGHT, TILE_WIDTH, type EvidenceTileAddress } from './tile-path.js';

/**
 * Reads a tlog-tiles tree from a directory as of one tree size: node hashes, inclusion and consistency proofs
 * (RFC 9162 ranges from core/merkle, hashed from tiles), entries from entry bundles. A tile of the needed width is
 * read from its exact path, else from the full tile or a wider partial one (the writer deletes partial tiles that
 * a wider one replaces), using its prefix: every tile is a prefix of its later versions.
 */
export async function readBounded(path: string, maxBytes: number): Promise<Uint8Array | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
  try {
    // Sized from the file (a tile is 8 KiB, the bound for entry bundles 16 MiB): one byte more detects growth.
    const size = (await handle.stat()).size;
    if (size > maxBytes) throw evidenceError(EvidenceErrorCodes.EVIDENCE_LOG_CORRUPT, `${path} is larger than ${maxBytes} bytes`);
    const buffer = Buffer.alloc(size + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, total, buffer.length - total, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > size) throw evidenceError(EvidenceErrorCodes.EVIDENCE_LOG_CORRUPT, `${path} grew while it was read`);
    }
    return new Uint8Array(buffer.subarray(0, total));
  } finally {
    await handle.close();
  }
}

const tileBytes = (a: EvidenceTileAddress) => (a.level === 'entries' ? EvidenceLimits.maxEntryBundleBytes : TILE_WIDTH * HASH_SIZE);

/** Reads tile `address` (any stored version at least as wide), returns exactly its first `width` items' bytes. */
export async function readTile(dir: string, address: EvidenceTileAddress): Promise<Uint8Array> {
  const candidates: number[] = [address.width, TILE_WIDTH];
  const partialDir = join(dir, `${evidenceTilePath({ ...address, width: TILE_WIDTH })}.p`);
  try {
    for (const name of await readdir(partialDir)) {
      const w = /^[1-9][0-9]{0,2}$/.test(name) ? Number(name) : 0;
      if (w > address.width && w < TILE_WIDTH) candidates.push(w);
    }
  } catch {
    // no partial versions
  }
  for (const width of candidates) {
    const bytes = await readBounded(join(dir, evidenceTilePath({ ...address, width })), tileBytes(address));
    if (bytes === null) continue;
    if (address.level !== 'entries') {
      if (bytes.length !== width * HASH_SIZE) throw evidenceError(EvidenceErrorCodes.EVIDENCE_LOG_CORRUPT, `${evidenceTilePath({ ...address, width })} has ${bytes.length} bytes`);
      return bytes.subarray(0, address.width * HASH_SIZE);
    }
    const entries = splitEntryBundle(bytes, width, evidenceTilePath({ ...address, width }));
    const end = entries.slice(0, address.width).reduce((n, e) => n + 2 + e.length, 0);
    return bytes.subarray(0, end);
  }
  throw evidenceError(EvidenceErrorCodes.EVIDENCE_UNAVAILABLE, `${evidenceTilePath(address)} is missing`);
}

/** An entry bundle: each entry prefixed by its length as a big-endian uint16 (tlog-tiles). */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(entries.reduce((n, e) => n + 2 + e.length, 0));
  let at = 0;
  for (const e of entries) {
    out[at] = e.length >> 8;
    out[at + 1] = e.length & 0xff;
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

export function splitEntryBundle(bytes: Uint8Array, expected: number, what = 'entry bundle'): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) throw evidenceError(EvidenceErrorCodes.EVIDENCE_LOG_CORRUPT, `${what}: truncated length`);
    const len = (bytes[at]! << 8) | bytes[at + 1]!;
    if (at + 2 + len > bytes.length) throw evidenceError(EvidenceErrorCodes.EVIDENCE_LOG_CORRUPT, `${what}: truncated entry`);
    out.push(bytes.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  if (out.length !== expected) throw evidenceError(EvidenceErrorCodes.EVIDENCE_LOG_CORRUPT, `${what}: ${out.length} entries, expected ${expected}`);
  return out;
}

/** A read-only view of the tree of `size` leaves stored in `dir`. Keeps the hash tiles it read in a bounded LRU. */
export class TileTreeReader {
  private readonly cache = new Map<string, Uint8Array>();

  constructor(
    readonly dir: string,
    readonly size: number,
  ) {}

  private async hashTile(level: number, index: number): Promise<Uint8Array> {
    const width = Math.min(TILE_WIDTH, nodesAtTileLevel(this.size, level) - index * TILE_WIDTH);
    const key = `${level}/${index}/${width}`;
    let tile = this.cache.get(key);
    if (tile) {
      // Least recently used first: a hit moves to the end of the Map's insertion order.
      this.cache.delete(key);
    } else {
      tile = await readTile(this.dir, { level, index, width });
      if (this.cache.size >= EvidenceLimits.readerCacheTiles) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(key, tile);
    return tile;
  }

  /** Hash of the complete subtree at tree level `level`, index `index` (it must lie inside the tree). */
  async node(level: number, index: number): Promise<Uint8Array> {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const sub = level - tileLevel * TILE_HEIGHT;
    const first = index * 2 ** sub; // first node of level 8*tileLevel under it
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const tile = await this.hashTile(tileLevel, tileIndex);
    const offset = first - tileIndex * TILE_WIDTH;
    const count = 2 ** sub;
    if ((offset + count) * HASH_SIZE > tile.length) throw evidenceError(EvidenceErrorCodes.EVIDENCE_LOG_CORRUPT, `node ${level}/${index} is not in the tiles`);
    if (count === 1) return tile.subarray(offset * HASH_SIZE, (offset + 1) * HASH_SIZE);
    const tree = new MerkleTree();
    for (let i = 0; i < count; i++) tree.appendLeafHash(tile.subarray((offset + i) * HASH_SIZE, (offset + i + 1) * HASH_SIZE));
    return tree.root();
  }

  async rangeHash(range: LeafRange): Promise<Uint8Array> {
    const nodes: Uint8Array[] = [];
    for (const { level, index } of rangeNodes(range)) nodes.push(await this.node(level, index));
    return hashFromNodes(nodes);
  }

  async root(): Promise<Uint8Array> {
    return this.size === 0 ? EMPTY_TREE_ROOT : this.rangeHash({ start: 0, end: this.size });
  }

  async leafHash(index: number): Promise<Uint8Array> {
    return this.node(0, index);
  }

  async inclusionProof(index: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (const r of inclusionProofRanges(index, this.size)) out.push(await this.rangeHash(r));
    return out;
  }

  async consistencyProof(oldSize: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (const r of consistencyProofRanges(oldSize, this.size)) out.push(await this.rangeHash(r));
    return out;
  }

  /** The entries of entry bundle `index` as of this tree size. */
  async entryBundle(index: number): Promise<Uint8Array[]> {
    const width = Math.min(TILE_WIDTH, this.size - index * TILE_WIDTH);
    if (width <= 0) throw new RangeError(`no entry bundle ${index} in a tree of ${this.size}`);
    return splitEntryBundle(await readTile(this.dir, { level: 'entries', index, width }), width, evidenceTilePath({ level: 'entries', index, width }));
  }
}
