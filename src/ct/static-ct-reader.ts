import { sha256Hex } from '../core/hash.js';
import { bytesEqual, hashChildren } from '../core/merkle/hash.js';
import { verifyInclusion } from '../core/merkle/inclusion.js';
import { consistencyProofRanges, inclusionProofRanges, rangeNodes, type LeafRange, type NodePosition } from '../core/merkle/ranges.js';
import { hashFromNodes } from '../core/merkle/tree.js';
import { toBase64, toHex } from './bytes.js';
import { verifyCheckpoint } from './checkpoint.js';
import { ctError, CtErrorCodes } from './errors.js';
import type { DigitallySignedVerifier } from './digitally-signed.js';
import type { Gunzip, HttpClient } from './http.js';
import { leafHashOf } from './leaf-hash.js';
import { CtLimits } from './limits.js';
import { leafIndexFromExtensions } from './sct.js';
import { parseDataTile, type TileLeaf } from './tile-leaf.js';
import { TILE_HEIGHT, TILE_WIDTH, tilePath, tileWidth } from './tile-path.js';
import type { TreeHead } from './tree-head.js';

export interface TiledLogEndpoint {
  monitoringUrl: string;
  submissionUrl: string;
  logId: Uint8Array;
  key: Uint8Array;
  description: string;
}

export interface ProvenTileEntry {
  leaf: TileLeaf;
  leafHash: Uint8Array;
}

/** Tiles are immutable once published (a partial tile of width W never changes either), so caching by URL is safe. */
export class TileCache {
  private readonly hashTiles = new Map<string, Uint8Array[]>();
  private readonly dataTiles = new Map<string, Uint8Array>();
  private readonly issuers = new Map<string, Uint8Array>();
  constructor(private readonly maxHashTiles = 2048, private readonly maxDataTiles = 32) {}

  getHash(url: string): Uint8Array[] | undefined {
    return this.hashTiles.get(url);
  }
  setHash(url: string, tile: Uint8Array[]): void {
    if (this.hashTiles.size >= this.maxHashTiles) this.hashTiles.delete(this.hashTiles.keys().next().value!);
    this.hashTiles.set(url, tile);
  }
  getData(url: string): Uint8Array | undefined {
    return this.dataTiles.get(url);
  }
  setData(url: string, tile: Uint8Array): void {
    if (this.dataTiles.size >= this.maxDataTiles) this.dataTiles.delete(this.dataTiles.keys().next().value!);
    this.dataTiles.set(url, tile);
  }
  /** Issuer certificates by URL (immutable, addressed by their hash; a few hundred CAs exist). */
  getIssuer(url: string): Uint8Array | undefined {
    return this.issuers.get(url);
  }
  setIssuer(url: string, der: Uint8Array): void {
    if (this.issuers.size >= 1024) this.issuers.delete(this.issuers.keys().next().value!);
    this.issuers.set(url, der);
  }
}

/** Hash of 2^r consecutive stored hashes (a complete subtree inside one tile). */
function subtreeOf(hashes: readonly Uint8Array[]): Uint8Array {
  let level = [...hashes];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(hashChildren(level[i]!, level[i + 1]!));
    level = next;
  }
  return level[0]!;
}

/**
 * C2SP static-ct-api monitoring client. Every hash the client relies on is authenticated back to a checkpoint
 * whose note signature verified: proofs are assembled from hash tiles and checked with the pure core verifier,
 * and the entry read from the data tile must hash to the level-0 tile's leaf hash. Pure: the checkpoint signature
 * check and gzip are injected (node in src/ct/static-ct-client.ts, WebCrypto/DecompressionStream in src/browser).
 */
export class StaticCtReader {
  constructor(
    private readonly log: TiledLogEndpoint,
    private readonly http: HttpClient,
    private readonly cache: TileCache,
    private readonly platform: { verify: DigitallySignedVerifier; gunzip: Gunzip },
  ) {}

  private async get(path: string, maxBytes: number): Promise<{ status: number; body: Uint8Array }> {
    const res = await this.http(`${this.log.monitoringUrl}${path}`, { maxBytes });
    return { status: res.status, body: res.body };
  }

  async getCheckpoint(): Promise<TreeHead> {
    const { status, body } = await this.get('checkpoint', CtLimits.maxCheckpointBytes);
    if (status !== 200) throw ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${this.log.description}: checkpoint answered HTTP ${status}`);
    return verifyCheckpoint(new TextDecoder().decode(body), this.log, this.platform.verify);
  }

  /**
   * Fetches `level`'s tile `index` of `width` hashes. A partial tile may be gone once the tree grew past it; then the
   * full tile is fetched and its prefix used (the prefix of a Merkle level never changes).
   */
  async hashTile(level: number, index: number, width: number): Promise<Uint8Array[]> {
    const url = `${this.log.monitoringUrl}${tilePath(level, index, width)}`;
    const cached = this.cache.getHash(url);
    if (cached) return cached;
    let { status, body } = await this.get(tilePath(level, index, width), CtLimits.maxHashTileBytes + 1024);
    if (status === 404 && width < TILE_WIDTH) ({ status, body } = await this.get(tilePath(level, index), CtLimits.maxHashTileBytes + 1024));
    if (status !== 200) throw ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${this.log.description}: tile ${level}/${index} answered HTTP ${status}`);
    body = await this.platform.gunzip(body, CtLimits.maxHashTileBytes, 'hash tile');
    if (body.length !== width * 32 && body.length !== TILE_WIDTH * 32) {
      throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${this.log.description}: tile ${level}/${index} has ${body.length} bytes, expected ${width * 32}`);
    }
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < width; i++) hashes.push(body.slice(i * 32, i * 32 + 32));
    this.cache.setHash(url, hashes);
    return hashes;
  }

  async dataTile(index: number, width: number): Promise<TileLeaf[]> {
    const path = tilePath('data', index, width);
    const url = `${this.log.monitoringUrl}${path}`;
    let body = this.cache.getData(url);
    if (!body) {
      let res = await this.get(path, CtLimits.maxDataTileBytes);
      if (res.status === 404 && width < TILE_WIDTH) res = await this.get(tilePath('data', index), CtLimits.maxDataTileBytes);
      if (res.status !== 200) throw ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${this.log.description}: data tile ${index} answered HTTP ${res.status}`);
      body = await this.platform.gunzip(res.body, CtLimits.maxDataTileBytes, 'data tile');
      this.cache.setData(url, body);
    }
    return parseDataTile(body, width);
  }

  /** `<monitoring>/issuer/<hex>`: a chain certificate named by a data tile; it must hash to its fingerprint. */
  async issuer(fingerprint: Uint8Array): Promise<Uint8Array> {
    const hex = toHex(fingerprint);
    const url = `${this.log.monitoringUrl}issuer/${hex}`;
    const cached = this.cache.getIssuer(url);
    if (cached) return cached;
    const { status, body } = await this.get(`issuer/${hex}`, CtLimits.maxCertificateBytes);
    if (status !== 200) throw ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${this.log.description}: issuer/${hex} answered HTTP ${status}`);
    if (sha256Hex(body) !== hex) {
      throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${this.log.description}: issuer/${hex} does not hash to its fingerprint`);
    }
    this.cache.setIssuer(url, body);
    return body;
  }

  /** Hash of the complete subtree (level k, index j) in the tree of `treeSize`, read from the hash tiles. */
  private async nodeHash(node: NodePosition, treeSize: number): Promise<Uint8Array> {
    const tileLevel = Math.floor(node.level / TILE_HEIGHT);
    const below = node.level % TILE_HEIGHT;
    const span = 2 ** below;
    const first = node.index * span;
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const nodesAtTileLevel = Math.floor(treeSize / TILE_WIDTH ** tileLevel);
    const width = tileWidth(nodesAtTileLevel, tileIndex);
    const offset = first % TILE_WIDTH;
    if (width < offset + span) throw new RangeError('node is not complete in this tree');
    const tile = await this.hashTile(tileLevel, tileIndex, width);
    return subtreeOf(tile.slice(offset, offset + span));
  }

  private async rangeHash(range: LeafRange, treeSize: number): Promise<Uint8Array> {
    const nodes = await Promise.all(rangeNodes(range).map((n) => this.nodeHash(n, treeSize)));
    return hashFromNodes(nodes);
  }

  /** Reads entry `index` and proves it is in the tree of `head` (which the caller has verified). */
  async provenEntry(index: number, head: TreeHead): Promise<ProvenTileEntry> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= head.treeSize) {
      throw ctError(CtErrorCodes.CT_LEAF_NOT_FOUND, `${this.log.description}: index ${index} is not in the tree of size ${head.treeSize}`);
    }
    const tileIndex = Math.floor(index / TILE_WIDTH);
    const width = tileWidth(head.treeSize, tileIndex);
    const [entries, level0] = await Promise.all([this.dataTile(tileIndex, width), this.hashTile(0, tileIndex, width)]);
    const leaf = entries[index % TILE_WIDTH]!;
    const leafHash = leafHashOf(leaf.entry);
    if (!bytesEqual(leafHash, level0[index % TILE_WIDTH]!)) {
      throw ctError(CtErrorCodes.CT_TILE_MISMATCH, `${this.log.description}: entry ${index} in the data tile hashes to ${toBase64(leafHash)}, the hash tile says ${toBase64(level0[index % TILE_WIDTH]!)}`);
    }
    const claimedIndex = leafIndexFromExtensions(leaf.entry.extensions);
    if (claimedIndex !== null && claimedIndex !== index) {
      throw ctError(CtErrorCodes.CT_TILE_MISMATCH, `${this.log.description}: entry at ${index} carries leaf_index ${claimedIndex}`);
    }
    const proof = await Promise.all(inclusionProofRanges(index, head.treeSize).map((r) => this.rangeHash(r, head.treeSize)));
    if (!verifyInclusion(index, head.treeSize, leafHash, proof, head.rootHash)) {
      throw ctError(CtErrorCodes.CT_AUDIT_PATH_INVALID, `${this.log.description}: hash tiles do not prove entry ${index} in the checkpoint of size ${head.treeSize}`);
    }
    return { leaf, leafHash };
  }

  /** Consistency proof from `oldSize` to the tree of `newSize`, assembled from that tree's tiles. */
  async consistencyProof(oldSize: number, newSize: number): Promise<Uint8Array[]> {
    return Promise.all(consistencyProofRanges(oldSize, newSize).map((r) => this.rangeHash(r, newSize)));
  }
}
