/** RFC 6962 / RFC 9162 Merkle trees: pure, no I/O; shared by CT verification and the evidence log. */
export { HASH_SIZE, EMPTY_TREE_ROOT, hashLeaf, hashChildren, bytesEqual } from './hash.js';
export { inclusionProofRanges, consistencyProofRanges, rangeNodes, splitPoint, isPowerOfTwo } from './ranges.js';
export type { LeafRange, NodePosition } from './ranges.js';
export { rootFromInclusionProof, verifyInclusion } from './inclusion.js';
export { verifyConsistency } from './consistency.js';
export { MerkleTree, hashFromNodes } from './tree.js';
export { TiledFrontier } from './frontier.js';
export type { CompletedTile, PartialTile } from './frontier.js';
