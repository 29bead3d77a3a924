import { EMPTY_TREE_ROOT, hashChildren, hashLeaf } from './hash.js';
import { consistencyProofRanges, inclusionProofRanges, rangeNodes, type LeafRange } from './ranges.js';

/**
 * An append-only Merkle tree in memory that keeps every complete subtree hash (levels[k][i] covers leaves
 * i*2^k .. (i+1)*2^k - 1). Appending is O(log n); any root, proof or tile is assembled from stored nodes in
 * O(log^2 n) without rehashing leaves. Used by the local CT log and, later, the evidence log.
 */
export class MerkleTree {
  private readonly levels: Uint8Array[][] = [[]];

  get size(): number {
    return this.levels[0]!.length;
  }

  /** Appends an already computed leaf hash; returns its index. */
  appendLeafHash(leafHash: Uint8Array): number {
    const index = this.size;
    this.levels[0]!.push(leafHash);
    let level = 0;
    let i = index;
    // Each time a node closes a pair, the parent becomes complete.
    while (i % 2 === 1) {
      const row = this.levels[level]!;
      const parent = hashChildren(row[i - 1]!, row[i]!);
      level++;
      if (!this.levels[level]) this.levels[level] = [];
      this.levels[level]!.push(parent);
      i = Math.floor(i / 2);
    }
    return index;
  }

  appendLeaf(leaf: Uint8Array): number {
    return this.appendLeafHash(hashLeaf(leaf));
  }

  leafHash(index: number): Uint8Array {
    const h = this.levels[0]![index];
    if (!h) throw new RangeError(`no leaf ${index}`);
    return h;
  }

  /** Hash of the complete subtree at (level, index), or undefined when it is not complete yet. */
  node(level: number, index: number): Uint8Array | undefined {
    return this.levels[level]?.[index];
  }

  /** Stored complete nodes at one level (for hash tiles). */
  nodesAtLevel(level: number): readonly Uint8Array[] {
    return this.levels[level] ?? [];
  }

  rangeHash(range: LeafRange): Uint8Array {
    return hashFromNodes(rangeNodes(range).map(({ level, index }) => {
      const h = this.node(level, index);
      if (!h) throw new RangeError(`node ${level}/${index} is not complete`);
      return h;
    }));
  }

  root(size = this.size): Uint8Array {
    if (size < 0 || size > this.size) throw new RangeError(`tree has ${this.size} leaves, not ${size}`);
    return size === 0 ? EMPTY_TREE_ROOT : this.rangeHash({ start: 0, end: size });
  }

  inclusionProof(index: number, size = this.size): Uint8Array[] {
    if (size > this.size) throw new RangeError(`tree has ${this.size} leaves, not ${size}`);
    return inclusionProofRanges(index, size).map((r) => this.rangeHash(r));
  }

  consistencyProof(oldSize: number, newSize = this.size): Uint8Array[] {
    if (newSize > this.size) throw new RangeError(`tree has ${this.size} leaves, not ${newSize}`);
    return consistencyProofRanges(oldSize, newSize).map((r) => this.rangeHash(r));
  }
}

/** Folds a right-edge decomposition (largest subtree first) into one hash: H(c1, H(c2, ... c_k)). */
export function hashFromNodes(nodes: readonly Uint8Array[]): Uint8Array {
  if (nodes.length === 0) throw new RangeError('no nodes');
  let acc = nodes[nodes.length - 1]!;
  for (let i = nodes.length - 2; i >= 0; i--) acc = hashChildren(nodes[i]!, acc);
  return acc;
}
