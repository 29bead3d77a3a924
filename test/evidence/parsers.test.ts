import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EmblemError } from '../../src/core/errors.js';
import { checkpointText, parseCheckpoint, signCheckpoint, verifyCheckpoint } from '../../src/evidence/checkpoint.js';
import { formatNote, formatVerifierKey, generateSigner, noteKeyHash, noteSignedBy, parseNote, parseSignerKey, parseVerifierKey, formatSignerKey, signNote } from '../../src/evidence/signed-note.js';
import { evidenceTilePath, parseEvidenceTilePath } from '../../src/evidence/tile-path.js';
import { encodeTileIndex } from '../../src/ct/tile-path.js';

fc.configureGlobal({ seed: 0xe1d, numRuns: 300 });

const signer = generateSigner('observatory.test/log');
const witness = generateSigner('witness.example');
const root = new Uint8Array(32).map((_, i) => i);

/** Parsers of hostile input either return a value or throw an EmblemError with an EVIDENCE_* code; nothing else. */
function onlyCodedFailures(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EmblemError, `threw ${String(err)}`);
    assert.match(String(err.code), /^EVIDENCE_/);
  }
}

describe('signed notes and checkpoints', () => {
  it('round-trips, and verifies with the observer key only', () => {
    const text = signCheckpoint('observatory.test/log', 42, root, signer);
    assert.equal(text, `observatory.test/log\n42\n${Buffer.from(root).toString('base64')}\n\n\u2014 observatory.test/log ${text.split(' ').at(-1)}`);
    const cp = verifyCheckpoint(text, formatVerifierKey(signer), { origin: 'observatory.test/log' });
    assert.equal(cp.size, 42);
    assert.deepEqual(cp.rootHash, root);
    assert.throws(() => verifyCheckpoint(text, formatVerifierKey(witness)), { code: 'EVIDENCE_SIGNATURE_INVALID' });
    assert.throws(() => verifyCheckpoint(text, formatVerifierKey(signer), { origin: 'other' }), { code: 'EVIDENCE_ORIGIN_MISMATCH' });
  });

  it('keeps witness co-signatures, ignores them unless asked, and checks them when asked', () => {
    const body = checkpointText('observatory.test/log', 7, root);
    const observer = parseNote(signNote(body, signer));
    const cosigned = parseNote(signNote(body, witness));
    const both = formatNote({ text: body, signatures: [...observer.signatures, ...cosigned.signatures, { name: 'unknown.witness', keyHash: new Uint8Array(4), signature: new Uint8Array(72) }] });
    const cp = verifyCheckpoint(both, formatVerifierKey(signer), { witnesses: [formatVerifierKey(witness)] });
    assert.equal(cp.note.signatures.length, 3);
    assert.throws(() => verifyCheckpoint(signNote(body, signer), formatVerifierKey(signer), { witnesses: [formatVerifierKey(witness)] }), { code: 'EVIDENCE_SIGNATURE_INVALID' });
  });

  it('verifier and private key texts round-trip; the key hash binds the name', () => {
    const pub = formatVerifierKey(signer);
    assert.match(pub, /^observatory\.test\/log\+[0-9a-f]{8}\+/);
    assert.deepEqual(parseVerifierKey(pub).publicKey, signer.publicKey);
    assert.deepEqual(noteKeyHash(signer.name, signer.publicKey), signer.keyHash);
    const again = parseSignerKey(formatSignerKey(signer));
    assert.ok(noteSignedBy(parseNote(signNote('x\n', again)), signer));
    const renamed = pub.replace('observatory.test/log', 'observatory.test/other');
    assert.throws(() => parseVerifierKey(renamed), { code: 'EVIDENCE_KEY_INVALID' });
    assert.throws(() => parseVerifierKey(pub.replace('+', ' ')), { code: 'EVIDENCE_KEY_INVALID' });
  });

  it('refuses malformed notes with EVIDENCE_NOTE_MALFORMED', () => {
    const good = signCheckpoint('o', 1, root, signer);
    const bad = [
      '',
      'o\n1\n',
      good.slice(0, -1),
      good.replace('\n\n', '\n'),
      good.replace('\u2014 ', '- '),
      good.replace('o\n1\n', 'o\n01\n'),
      good.replace('o\n1\n', 'o\n-1\n'),
      good.replace('o\n1\n', 'o\n99999999999999999\n'),
      good.replace('o\n1\n', 'o\r\n1\n'),
      good.replace(/\n\n/, '\n\n\n'),
      `o\n1\n${Buffer.from(root.subarray(1)).toString('base64')}\n\n${good.split('\n\n')[1]}`,
      `${good}${'\u2014 w AAAAAAA=\n'.repeat(40)}`,
      'x'.repeat(20_000),
    ];
    for (const text of bad) assert.throws(() => verifyCheckpoint(text, formatVerifierKey(signer)), (err: EmblemError) => /^EVIDENCE_/.test(String(err.code)), JSON.stringify(text.slice(0, 80)));
  });

  it('property: any string is parsed or refused with a code, never a crash', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => onlyCodedFailures(() => parseCheckpoint(s))));
    // Note-shaped input: the pieces a note is made of, in any order, so the later checks are reached too.
    const piece = fc.constantFrom('o', '1', '\n', '\n\n', '\u2014 ', ' ', 'name', 'AAAAAAA=', Buffer.from(root).toString('base64'), '\r', '\t', '\uFFFD', '+', '\u2014');
    fc.assert(fc.property(fc.array(piece, { maxLength: 30 }).map((a) => a.join('')), (s) => onlyCodedFailures(() => parseNote(s))));
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => onlyCodedFailures(() => parseVerifierKey(s))));
  });

  it('property: mutating a signed checkpoint anywhere breaks it (parse error or bad signature)', () => {
    const good = signCheckpoint('observatory.test/log', 123_456, root, signer);
    const pub = formatVerifierKey(signer);
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 0xffff }), (pos, code) => {
        const changed = good.slice(0, pos) + String.fromCharCode(good.charCodeAt(pos) ^ code) + good.slice(pos + 1);
        fc.pre(changed !== good);
        assert.throws(() => verifyCheckpoint(changed, pub), (err: EmblemError) => /^EVIDENCE_/.test(String(err.code)));
      }),
    );
  });

  it('property: well-formed checkpoints round-trip', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9.\/-]{1,40}$/), fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (origin, size, hash) => {
        const cp = verifyCheckpoint(signCheckpoint(origin, size, hash, signer), signer);
        assert.deepEqual([cp.origin, cp.size, [...cp.rootHash]], [origin, size, [...hash]]);
      }),
      { numRuns: 100 },
    );
  });
});

describe('tile paths', () => {
  it('encodes and parses hash tiles and entry bundles', () => {
    assert.equal(evidenceTilePath({ level: 0, index: 1234067, width: 256 }), 'tile/0/x001/x234/067');
    assert.equal(evidenceTilePath({ level: 'entries', index: 5, width: 17 }), 'tile/entries/005.p/17');
    assert.deepEqual(parseEvidenceTilePath('tile/entries/x001/000.p/255'), { level: 'entries', index: 1000, width: 255 });
    for (const bad of ['tile/0/x000/005', 'tile/0/005.p/256', 'tile/0/005.p/0', 'tile/0/005.p/09', 'tile/64/005', 'tile/00/005', 'tile/data/005',
      'tile/0/5', 'tile/0/005/', '/tile/0/005', 'tile/0/../005', 'tile/0/x999/x999/x999/x999/x999/x999/999', 'tile/entries/005.p/', 'tile/0/005.P/5']) {
      assert.equal(parseEvidenceTilePath(bad), null, bad);
    }
  });

  it('property: encode/parse round-trip for every level, index and width', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant('entries' as const), fc.integer({ min: 0, max: 63 })), fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 256 }), (level, index, width) => {
        assert.deepEqual(parseEvidenceTilePath(evidenceTilePath({ level, index, width })), { level, index, width });
      }),
    );
  });

  it('property: hostile strings parse to canonical paths only (re-encoding gives the same text)', () => {
    const piece = fc.constantFrom('tile', 'entries', '0', '1', '63', '64', 'x000', 'x001', '000', '999', '.p', '255', '256', '..', '.', '', '%2e', 'x', '/');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.array(piece, { maxLength: 10 }).map((a) => a.join('/'))), (s) => {
        const parsed = parseEvidenceTilePath(s);
        if (parsed) {
          assert.equal(evidenceTilePath(parsed), s);
          assert.ok(!s.includes('..'));
        }
      }),
      { numRuns: 2000 },
    );
    assert.equal(encodeTileIndex(0), '000');
  });
});
