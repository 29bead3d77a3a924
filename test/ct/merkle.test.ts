import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MerkleTree,
  EMPTY_TREE_ROOT,
  hashLeaf,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../src/core/merkle/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The RFC 6962 reference leaves used by certificate-transparency / transparency-dev test data. */
const REFERENCE_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
  (h) => new Uint8Array(Buffer.from(h, 'hex')),
);
const REFERENCE_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

function treeOf(n: number): MerkleTree {
  const t = new MerkleTree();
  for (let i = 0; i < n; i++) t.appendLeaf(Uint8Array.of(i & 0xff, i >> 8));
  return t;
}

test('roots match the RFC 6962 reference vectors, and the empty tree hashes to SHA-256("")', () => {
  const t = new MerkleTree();
  assert.equal(hex(t.root()), hex(EMPTY_TREE_ROOT));
  assert.equal(hex(EMPTY_TREE_ROOT), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  REFERENCE_LEAVES.forEach((leaf, i) => {
    t.appendLeaf(leaf);
    assert.equal(hex(t.root()), REFERENCE_ROOTS[i], `root of ${i + 1} leaves`);
  });
  // Historic roots stay available after growth.
  REFERENCE_ROOTS.forEach((root, i) => assert.equal(hex(t.root(i + 1)), root));
});

test('every inclusion proof the tree generates verifies; mutated ones do not', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), (size, rawIndex, flip) => {
      const t = treeOf(size);
      const index = rawIndex % size;
      const proof = t.inclusionProof(index, size);
      const leaf = t.leafHash(index);
      assert.ok(verifyInclusion(index, size, leaf, proof, t.root()));
      // Wrong leaf, wrong index, truncated or extended proof, flipped bit: all rejected.
      assert.ok(!verifyInclusion(index, size, hashLeaf(Uint8Array.of(9, 9, 9)), proof, t.root()));
      if (size > 1) assert.ok(!verifyInclusion((index + 1) % size, size, leaf, proof, t.root()));
      assert.ok(!verifyInclusion(index, size, leaf, [...proof, leaf], t.root()));
      if (proof.length > 0) {
        assert.ok(!verifyInclusion(index, size, leaf, proof.slice(1), t.root()));
        const mutated = proof.map((p) => p.slice());
        const at = flip % mutated.length;
        mutated[at]![flip % 32]! ^= 1 << (flip % 8);
        assert.ok(!verifyInclusion(index, size, leaf, mutated, t.root()));
      }
    }),
    { numRuns: 200 },
  );
});

test('every consistency proof the tree generates verifies; mutated ones and forks do not', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), (newSize, rawOld, flip) => {
      const t = treeOf(newSize);
      const oldSize = 1 + (rawOld % newSize);
      const proof = t.consistencyProof(oldSize, newSize);
      assert.ok(verifyConsistency(oldSize, newSize, t.root(oldSize), t.root(newSize), proof));
      if (proof.length > 0) {
        const mutated = proof.map((p) => p.slice());
        mutated[flip % mutated.length]![flip % 32]! ^= 1;
        assert.ok(!verifyConsistency(oldSize, newSize, t.root(oldSize), t.root(newSize), mutated));
      }
      // A fork: same size, one different leaf before oldSize.
      if (oldSize < newSize) {
        const fork = new MerkleTree();
        for (let i = 0; i < newSize; i++) fork.appendLeaf(i === oldSize - 1 ? Uint8Array.of(0xee) : Uint8Array.of(i & 0xff, i >> 8));
        assert.ok(!verifyConsistency(oldSize, newSize, t.root(oldSize), fork.root(newSize), fork.consistencyProof(oldSize, newSize)));
      }
    }),
    { numRuns: 200 },
  );
});

test('degenerate inputs are rejected without throwing', () => {
  const t = treeOf(5);
  const leaf = t.leafHash(0);
  assert.equal(rootFromInclusionProof(5, 5, leaf, []), null);
  assert.equal(rootFromInclusionProof(-1, 5, leaf, []), null);
  assert.equal(rootFromInclusionProof(0, 5, leaf.subarray(1), []), null);
  assert.equal(rootFromInclusionProof(0, Number.MAX_SAFE_INTEGER + 2, leaf, []), null);
  assert.ok(!verifyConsistency(3, 2, t.root(3), t.root(2), []));
  assert.ok(verifyConsistency(0, 5, EMPTY_TREE_ROOT, t.root(5), []));
  assert.ok(verifyConsistency(5, 5, t.root(5), t.root(5), []));
  assert.ok(!verifyConsistency(5, 5, t.root(5), t.root(4), []));
});
