import { EMPTY_TREE_ROOT, hashChildren, HASH_SIZE } from './hash.js';
import { rangeNodes } from './ranges.js';
import { hashFromNodes } from './tree.js';

/** A tile that filled up: `width` (= the tile width) node hashes of tile level `level`, concatenated. */
export interface CompletedTile {
  level: number;
  index: number;
  data: Uint8Array;
}

/** The last, incomplete tile of one tile level: `width` hashes (1 .. tile width - 1). */
export interface PartialTile {
  level: number;
  index: number;
  width: number;
  data: Uint8Array;
}

/** MTH of `count` consecutive hashes (a power of two) stored from `offset` in `data`: the subtree above them. */
function subtreeHash(data: Uint8Array, offset: number, count: number): Uint8Array {
  if (count === 1) return data.slice(offset * HASH_SIZE, (offset + 1) * HASH_SIZE);
  const half = count / 2;
  return hashChildren(subtreeHash(data, offset, half), subtreeHash(data, offset + half, half));
}

/**
 * The right edge of an append-only Merkle tree in tlog-tiles form: for each tile level (tree levels height*L ..
 * height*L + height - 1), only the hashes of its last, incomplete tile. That is all an appender needs for the root
 * and for the tiles it still has to write: memory is at most 2^height hashes per tile level, O(log n) in all,
 * instead of every node (MerkleTree). Full tiles are handed back once, when they fill, for the caller to store;
 * proofs are then read from the stored tiles. Same hashes, same tiles as MerkleTree (the tests compare them).
 */
export class TiledFrontier {
  readonly tileWidth: number;
  private count = 0;
  /** Per tile level: a tile-width buffer and how many hashes of the current tile it holds. */
  private readonly levels: Array<{ data: Uint8Array; width: number }> = [];

  constructor(readonly height = 8) {
    if (!(Number.isInteger(height) && height >= 1 && height <= 16)) throw new RangeError(`bad tile height ${height}`);
    this.tileWidth = 2 ** height;
  }

  get size(): number {
    return this.count;
  }

  private level(l: number): { data: Uint8Array; width: number } {
    while (this.levels.length <= l) this.levels.push({ data: new Uint8Array(this.tileWidth * HASH_SIZE), width: 0 });
    return this.levels[l]!;
  }

  /** How many hashes tile level `level` has in a tree of `size` leaves (complete nodes of tree level height*level). */
  nodesAt(level: number, size = this.count): number {
    return Math.floor(size / 2 ** (this.height * level));
  }

  /** Appends a leaf hash; returns its index and the tiles that this filled, lowest level first. */
  appendLeafHash(leafHash: Uint8Array): { index: number; completed: CompletedTile[] } {
    if (leafHash.length !== HASH_SIZE) throw new RangeError('a leaf hash is 32 bytes');
    const index = this.count;
    const completed: CompletedTile[] = [];
    let hash = leafHash;
    for (let l = 0; ; l++) {
      const tile = this.level(l);
      tile.data.set(hash, tile.width * HASH_SIZE);
      tile.width++;
      if (tile.width < this.tileWidth) break;
      // The tile is full: store it, and its root is the next node one tile level up.
      const data = tile.data.slice();
      completed.push({ level: l, index: Math.floor(this.nodesAt(l, index + 1) / this.tileWidth) - 1, data });
      tile.width = 0;
      hash = subtreeHash(data, 0, this.tileWidth);
    }
    this.count++;
    return { index, completed };
  }

  /** The incomplete tile of every level that has one (copies), lowest level first. */
  partialTiles(): PartialTile[] {
    const out: PartialTile[] = [];
    for (let l = 0; l < this.levels.length; l++) {
      const { data, width } = this.levels[l]!;
      if (width > 0) out.push({ level: l, index: Math.floor(this.nodesAt(l) / this.tileWidth), width, data: data.slice(0, width * HASH_SIZE) });
    }
    return out;
  }

  /**
   * The root of the whole tree. Each node of the right-edge decomposition of [0, size) lies in the incomplete tile
   * of its tile level (the bits of size above that level are covered by bigger nodes), so no full tile is needed.
   */
  root(): Uint8Array {
    if (this.count === 0) return EMPTY_TREE_ROOT;
    return hashFromNodes(
      rangeNodes({ start: 0, end: this.count }).map(({ level, index }) => {
        const l = Math.floor(level / this.height);
        const width = 2 ** (level - l * this.height);
        const tile = this.levels[l]!;
        const offset = index * width - Math.floor(this.nodesAt(l) / this.tileWidth) * this.tileWidth;
        if (offset < 0 || offset + width > tile.width) throw new RangeError(`node ${level}/${index} is not on the right edge`);
        return subtreeHash(tile.data, offset, width);
      }),
    );
  }

  /**
   * Rebuilds the frontier of a tree of `size` leaves from its incomplete tiles: `partial(level, index, width)`
   * returns the first `width` hashes of that tile (from storage). Reads one tile per tile level, never the leaves.
   */
  static async fromPartialTiles(
    size: number,
    partial: (level: number, index: number, width: number) => Promise<Uint8Array>,
    height = 8,
  ): Promise<TiledFrontier> {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad tree size ${size}`);
    const f = new TiledFrontier(height);
    f.count = size;
    for (let l = 0; f.nodesAt(l, size) > 0; l++) {
      const tile = f.level(l);
      const nodes = f.nodesAt(l, size);
      tile.width = nodes % f.tileWidth;
      if (tile.width === 0) continue;
      const data = await partial(l, Math.floor(nodes / f.tileWidth), tile.width);
      if (data.length !== tile.width * HASH_SIZE) throw new RangeError(`tile ${l}/${Math.floor(nodes / f.tileWidth)} has ${data.length} bytes, not ${tile.width * HASH_SIZE}`);
      tile.data.set(data, 0);
    }
    return f;
  }
}
