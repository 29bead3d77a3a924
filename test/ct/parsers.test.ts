import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { EmblemError } from '../../src/core/errors.js';
import { encodeSctList, leafIndexExtension, leafIndexFromExtensions, parseSctList, type SignedCertificateTimestamp } from '../../src/ct/sct.js';
import { encodeMerkleTreeLeaf, parseMerkleTreeLeaf, type TimestampedEntry } from '../../src/ct/merkle-tree-leaf.js';
import { encodeTileLeaf, parseDataTile, type TileLeaf } from '../../src/ct/tile-leaf.js';
import { checkpointOrigin, formatCheckpoint, parseCheckpoint, verifyCheckpoint } from '../../src/ct/checkpoint.js';
import { encodeTileIndex, parseTilePath, tilePath } from '../../src/ct/tile-path.js';
import { signDigitallySigned, verifyDigitallySigned } from '../../src/ct/signature.js';
import { treeHeadSignatureInput } from '../../src/ct/tree-head.js';
import { parseLogList } from '../../src/ct/log-list.js';
import { freshEcKeyPair } from '../helpers/fresh-key-pair.js';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const timestamp = fc.integer({ min: 0, max: 2 ** 48 });

const sctArb: fc.Arbitrary<SignedCertificateTimestamp> = fc.record({
  version: fc.constant(0),
  logId: bytes(32, 32),
  timestamp,
  extensions: fc.oneof(bytes(0, 40), fc.nat({ max: 2 ** 40 - 1 }).map(leafIndexExtension)),
  hashAlgorithm: fc.integer({ min: 0, max: 255 }),
  signatureAlgorithm: fc.integer({ min: 0, max: 255 }),
  signature: bytes(0, 80),
});

const entryArb: fc.Arbitrary<TimestampedEntry> = fc.oneof(
  fc.record({ timestamp, entryType: fc.constant('x509' as const), certificate: bytes(1, 300), extensions: bytes(0, 20) }),
  fc.record({ timestamp, entryType: fc.constant('precert' as const), issuerKeyHash: bytes(32, 32), certificate: bytes(1, 300), extensions: bytes(0, 20) }),
);

const tileLeafArb: fc.Arbitrary<TileLeaf> = fc.tuple(entryArb, bytes(1, 200), fc.array(bytes(32, 32), { maxLength: 4 })).map(([entry, pre, fps]) =>
  entry.entryType === 'precert' ? { entry, preCertificate: pre, chainFingerprints: fps } : { entry, chainFingerprints: fps },
);

/** Parsers of hostile bytes may only fail with a coded EmblemError, never crash with anything else. */
function failsCleanly(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EmblemError, `unexpected ${String(err)}`);
  }
}

const plain = (o: unknown) => JSON.parse(JSON.stringify(o, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));

test('SCT lists round-trip, and leaf_index extensions are read back', () => {
  fc.assert(
    fc.property(fc.array(sctArb, { minLength: 1, maxLength: 5 }), (scts) => {
      const parsed = parseSctList(encodeSctList(scts));
      assert.deepEqual(plain(parsed), plain(scts));
    }),
  );
  fc.assert(fc.property(fc.nat({ max: 2 ** 40 - 1 }), (i) => assert.equal(leafIndexFromExtensions(leafIndexExtension(i)), i)));
  assert.equal(leafIndexFromExtensions(new Uint8Array(0)), null);
});

test('MerkleTreeLeaf and TileLeaf round-trip', () => {
  fc.assert(fc.property(entryArb, (e) => assert.deepEqual(plain(parseMerkleTreeLeaf(encodeMerkleTreeLeaf(e))), plain(e))));
  fc.assert(
    fc.property(fc.array(tileLeafArb, { minLength: 1, maxLength: 6 }), (leaves) => {
      const tile = Buffer.concat(leaves.map(encodeTileLeaf));
      assert.deepEqual(plain(parseDataTile(new Uint8Array(tile), leaves.length)), plain(leaves));
    }),
  );
});

test('garbage and truncations never crash the TLS parsers', () => {
  fc.assert(
    fc.property(bytes(0, 200), (junk) => {
      failsCleanly(() => parseSctList(junk));
      failsCleanly(() => parseMerkleTreeLeaf(junk));
      failsCleanly(() => parseDataTile(junk, 3));
      failsCleanly(() => leafIndexFromExtensions(junk));
    }),
  );
  fc.assert(
    fc.property(entryArb, fc.nat(), (e, cut) => {
      const enc = encodeMerkleTreeLeaf(e);
      failsCleanly(() => parseMerkleTreeLeaf(enc.subarray(0, cut % enc.length)));
    }),
  );
});

test('tile paths: the C2SP examples, and encode/parse round-trip', () => {
  assert.equal(encodeTileIndex(1234067), 'x001/x234/067');
  assert.equal(tilePath(0, 5), 'tile/0/005');
  assert.equal(tilePath('data', 1234067, 17), 'tile/data/x001/x234/067.p/17');
  assert.equal(parseTilePath('tile/0/x000/005'), null, 'non-canonical');
  assert.equal(parseTilePath('tile/0/005.p/256'), null);
  assert.equal(parseTilePath('tile/0/005.p/0'), null);
  assert.equal(parseTilePath('tile/64/005'), null);
  fc.assert(
    fc.property(fc.oneof(fc.constant('data' as const), fc.integer({ min: 0, max: 63 })), fc.nat({ max: 2 ** 40 }), fc.integer({ min: 1, max: 256 }), (level, index, width) => {
      assert.deepEqual(parseTilePath(tilePath(level, index, width)), { level, index, width });
    }),
  );
  fc.assert(fc.property(fc.string(), (s) => void parseTilePath(s)));
});

test('checkpoints: signed notes round-trip and verify; a tampered note does not', async () => {
  const { privateKey, publicKey } = freshEcKeyPair('prime256v1');
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const logId = new Uint8Array(createHash('sha256').update(spki).digest());
  const submissionUrl = 'https://log.example/2026h1/';
  const origin = checkpointOrigin(submissionUrl);
  assert.equal(origin, 'log.example/2026h1');
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: 2 ** 40 }), bytes(32, 32), timestamp, async (treeSize, rootHash, ts) => {
      const head = { treeSize, rootHash, timestamp: ts };
      const note = formatCheckpoint(origin, head, logId, signDigitallySigned(privateKey, treeHeadSignatureInput(head)));
      const parsed = parseCheckpoint(note);
      assert.equal(parsed.origin, origin);
      assert.equal(parsed.treeSize, treeSize);
      assert.deepEqual(await verifyCheckpoint(note, { logId, key: spki, submissionUrl }, verifyDigitallySigned), head);
      const tampered = note.replace(`\n${treeSize}\n`, `\n${treeSize + 1}\n`);
      await assert.rejects(verifyCheckpoint(tampered, { logId, key: spki, submissionUrl }, verifyDigitallySigned), { code: 'CT_CHECKPOINT_SIGNATURE_INVALID' });
      await assert.rejects(verifyCheckpoint(note, { logId, key: spki, submissionUrl: 'https://other.example/' }, verifyDigitallySigned), { code: 'CT_CHECKPOINT_SIGNATURE_INVALID' });
    }),
    { numRuns: 30 },
  );
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => failsCleanly(() => parseCheckpoint(s))));
});

test('log lists: v3 logs and tiled_logs are indexed; bad entries are dropped with a warning', () => {
  const { publicKey } = freshEcKeyPair('prime256v1');
  const key = publicKey.export({ type: 'spki', format: 'der' });
  const logId = createHash('sha256').update(key).digest('base64');
  const list = {
    version: '3.0',
    operators: [
      {
        name: 'Op',
        logs: [
          { description: 'good', log_id: logId, key: key.toString('base64'), url: 'https://ct.example/', state: { retired: { timestamp: '2026-01-01T00:00:00Z' } } },
          { description: 'lying id', log_id: Buffer.alloc(32).toString('base64'), key: key.toString('base64'), url: 'https://ct.example/' },
          { description: 'no url', log_id: logId, key: key.toString('base64') },
        ],
        tiled_logs: [{ description: 'tiled', log_id: logId, key: key.toString('base64'), submission_url: 'https://s.example/', monitoring_url: 'https://m.example' }],
      },
    ],
  };
  const dir = parseLogList(list, 'test');
  const id = new Uint8Array(Buffer.from(logId, 'base64'));
  assert.equal(dir.find('rfc6962', id)?.description, 'good');
  assert.equal(dir.find('rfc6962', id)?.state, 'retired');
  assert.equal(dir.find('tiled', id)?.monitoringUrl, 'https://m.example/');
  assert.equal(dir.warnings.length, 2);
  assert.throws(() => parseLogList({ logs: [] }, 'x'), { code: 'CT_LOG_LIST_INVALID' });
  fc.assert(fc.property(fc.jsonValue(), (j) => failsCleanly(() => parseLogList(j, 'fuzz'))));
});
