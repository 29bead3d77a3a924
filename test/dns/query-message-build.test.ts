// The resolver writes a question's name straight into the query message (no intermediate wire name) and skips
// reading it back when checking the answer: both must give exactly what the wire-name route gives, for any name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { labelKeyFromBytes, nameToWire, type NameKey } from '../../src/dns/domain-name.js';
import { buildQuery, decodeResponse } from '../../src/dns/resolver.js';
import { RRType } from '../../src/dns/rr-type.js';

/** The query as built from nameToWire: header, question, OPT (EDNS 1232), nothing else. */
function reference(name: NameKey, qtype: number, id: number): Buffer {
  const header = Buffer.from([id >> 8, id & 0xff, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1]);
  const question = Buffer.from([qtype >> 8, qtype & 0xff, 0, 1]);
  const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, nameToWire(name), question, opt]);
}

/** Keys as names read from the wire become: any bytes per label (escaped where needed), 1-4 labels. */
const anyKey = fc
  .array(fc.uint8Array({ minLength: 1, maxLength: 20 }), { minLength: 0, maxLength: 4 })
  .map((labels) => labels.map((l) => labelKeyFromBytes(l, 0, l.length)).join('.'));
/** Keys of printable names without escapes (host names, the scan's usual input, are among them). */
const hostKey = fc
  .array(fc.stringMatching(/^[a-z0-9_*!#$%&'+,/:<=>?@[\]^`{|}~-]{1,20}$/), { minLength: 1, maxLength: 4 })
  .map((labels) => labels.join('.'));

/** The query turned into an answer with no records (QR set), its question spelled `questionName`. */
function emptyAnswer(query: Buffer, questionName: Buffer): Buffer {
  const header = Buffer.from(query.subarray(0, 12));
  header[2] = header[2]! | 0x80;
  header.writeUInt16BE(0, 10); // no OPT in the answer
  const qnameEnd = query.indexOf(0, 12) + 1;
  return Buffer.concat([header, questionName, query.subarray(qnameEnd, qnameEnd + 4)]);
}

describe('query messages', () => {
  it('buildQuery gives the bytes of the wire-name route for any name, type and ID', () => {
    fc.assert(
      fc.property(fc.oneof(anyKey, hostKey), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), (name, qtype, id) => {
        assert.deepEqual(buildQuery(name, qtype, id), reference(name, qtype, id));
      }),
    );
    assert.deepEqual(buildQuery('', RRType.TXT, 1), reference('', RRType.TXT, 1), 'the root');
  });

  it('an answer is accepted exactly when its question is the name asked (any letter case), with or without the name given', () => {
    fc.assert(
      fc.property(hostKey, fc.oneof(anyKey, hostKey), (asked, other) => {
        const query = buildQuery(asked, RRType.TXT, 7);
        const upper = Buffer.from(nameToWire(asked).map((b) => (b >= 0x61 && b <= 0x7a ? b - 32 : b)));
        for (const expected of [undefined, asked]) {
          assert.equal(decodeResponse(emptyAnswer(query, upper), query, 'test', true, expected).questions?.length, 1);
          if (other !== asked) {
            assert.throws(() => decodeResponse(emptyAnswer(query, nameToWire(other)), query, 'test', true, expected), /does not answer the question/);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('letter case is ignored in labels only: a type octet that differs by 0x20 is another question', () => {
    // 65400 is 0xff78: its low octet is 'x', which a case-blind byte comparison would take for 'X' (0x58).
    const query = buildQuery('a.example', 65400, 9);
    const wire = nameToWire('a.example');
    const good = emptyAnswer(query, Buffer.from(wire));
    assert.equal(decodeResponse(good, query, 'test').questions?.length, 1, 'control');
    const at = 12 + wire.length;
    for (const [offset, value] of [[at + 1, 0x58]] as const) {
      const bad = Buffer.from(good);
      bad[offset] = value;
      assert.throws(() => decodeResponse(bad, query, 'test'), /does not answer the question/, `octet ${offset}`);
    }
    // A label with a dot in it (\046) echoed byte for byte is the question asked.
    const dotted = buildQuery('a\\046b.example', 16, 9);
    assert.equal(decodeResponse(emptyAnswer(dotted, nameToWire('a\\046b.example')), dotted, 'test').questions?.length, 1);
  });
});
