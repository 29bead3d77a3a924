// The lean response decoder against dns-packet: wherever it answers, it answers exactly what dns-packet's decode()
// gives for the same bytes; everything else it leaves to dns-packet (null). Generated messages (with compression
// pointers, every record shape it handles and some it does not), then random mutations and truncations of them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { decodeCommonResponse } from '../../src/dns/lean-response-decoder.js';
import { buildQuery, decodeResponse } from '../../src/dns/resolver.js';

const label = fc.stringMatching(/^[a-z0-9_-]{1,12}$/);
const nameText = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));

/** One record as [owner, type, rdata]; owner null = a compression pointer to the question name (offset 12). */
type Rec = { owner: string | null; type: number; rdata: Buffer; klass: number; ttl: number };

function wireName(text: string): Buffer {
  const parts = text.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

const pointer12 = Buffer.from([0xc0, 12]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => Buffer.from([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

const rdataFor = fc.oneof(
  fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }).map((strings) => ({ type: 16, rdata: Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]))) })),
  fc.tuple(nameText, fc.boolean()).map(([n, ptr]) => ({ type: 5, rdata: ptr ? pointer12 : wireName(n) })),
  fc.tuple(nameText, nameText, fc.boolean(), fc.array(fc.nat(), { minLength: 5, maxLength: 5 })).map(([m, r, ptr, nums]) => ({
    type: 6,
    rdata: Buffer.concat([ptr ? pointer12 : wireName(m), wireName(r), ...nums.map((x) => u32(x))]),
  })),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => ({ type: 1, rdata: Buffer.from(a) })),
  fc.uint8Array({ maxLength: 20 }).map((a) => ({ type: 65400, rdata: Buffer.from(a) })),
);

const record: fc.Arbitrary<Rec> = fc
  .tuple(fc.option(nameText, { nil: null }), rdataFor, fc.constantFrom(1, 1, 1, 3, 0x8001), fc.nat())
  .map(([owner, r, klass, ttl]) => ({ owner, type: r.type, rdata: r.rdata, klass, ttl }));

function recordWire(r: Rec): Buffer {
  return Buffer.concat([r.owner === null ? pointer12 : wireName(r.owner), u16(r.type), u16(r.klass), u32(r.ttl), u16(r.rdata.length), r.rdata]);
}

const opt = fc.tuple(fc.nat(65535), fc.boolean()).map(([size, options]) =>
  Buffer.concat([Buffer.from([0]), u16(41), u16(size), Buffer.from([0, 0, 0x80, 0]), options ? Buffer.concat([u16(8), u16(10), u16(4), u32(1)]) : u16(0)]),
);

const message = fc
  .record({ id: fc.nat(65535), flags: fc.nat(65535), qname: nameText, qtype: fc.constantFrom(16, 65400, 1), answers: fc.array(record, { maxLength: 3 }), authorities: fc.array(record, { maxLength: 2 }), opt: fc.option(opt, { nil: null }) })
  .map((m) =>
    Buffer.concat([
      u16(m.id), u16(m.flags), u16(1), u16(m.answers.length), u16(m.authorities.length), u16(m.opt ? 1 : 0),
      wireName(m.qname), u16(m.qtype), u16(1),
      ...m.answers.map(recordWire), ...m.authorities.map(recordWire), ...(m.opt ? [m.opt] : []),
    ]),
  );

/** dns-packet's object or its error; the lean decoder's answer must equal it whenever it gives one. */
function agree(buf: Buffer): 'lean' | 'fallback' {
  const lean = decodeCommonResponse(buf);
  if (lean === null) return 'fallback';
  let reference: unknown;
  try {
    reference = dnsPacket.decode(buf);
  } catch (err) {
    assert.fail(`the lean decoder answered where dns-packet throws (${String(err)}): ${buf.toString('hex')}`);
  }
  assert.deepEqual(lean, reference, buf.toString('hex'));
  return 'lean';
}

describe('lean DNS response decoder', () => {
  test('equals dns-packet on generated messages, and decodes the common shapes itself', () => {
    let lean = 0;
    fc.assert(
      fc.property(message, (buf) => {
        if (agree(buf) === 'lean') lean++;
      }),
      { numRuns: 3000 },
    );
    // Messages with only TXT/CNAME/SOA records and an option-less OPT are a large share of the generated ones.
    assert.ok(lean > 300, `the lean path decoded only ${lean} of 3000 messages`);
  });

  test('equals dns-packet (or steps aside) on mutated and truncated messages', () => {
    fc.assert(
      fc.property(message, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(), (buf, flips, cut) => {
        const m = Buffer.from(buf);
        for (const [at, value] of flips) m[at % m.length] = value;
        agree(m);
        agree(m.subarray(0, cut % (m.length + 1)));
      }),
      { numRuns: 5000 },
    );
  });

  test('the common answers take the lean path: NXDOMAIN with an SOA, TXT, CNAME, with and without EDNS', () => {
    const query = buildQuery('a.example', 16, 0x2b1d);
    const id = query.readUInt16BE(0);
    const soa = { name: 'example', type: 'SOA' as const, ttl: 60, data: { mname: 'ns.example', rname: 'host.example', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 } };
    const cases = [
      dnsPacket.encode({ id, type: 'response', flags: 3, questions: [{ name: 'a.example', type: 'TXT' }], authorities: [soa] }),
      dnsPacket.encode({ id, type: 'response', questions: [{ name: 'a.example', type: 'TXT' }], answers: [{ name: 'a.example', type: 'TXT', data: ['adem-token=x', 'y'] }], additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 1232, flags: 0 } as dnsPacket.Answer] }),
      dnsPacket.encode({ id, type: 'response', questions: [{ name: 'a.example', type: 'TXT' }], answers: [{ name: 'a.example', type: 'CNAME', data: 'b.example' }, { name: 'b.example', type: 'TXT', data: 'v' }] }),
    ];
    for (const wire of cases) {
      assert.equal(agree(wire), 'lean');
      assert.deepEqual(decodeResponse(wire, query, 'test'), dnsPacket.decode(wire));
    }
    // Pointers that loop (to themselves, or forward) are left to dns-packet, which throws.
    const head = Buffer.from(cases[0]!.subarray(0, 12));
    head.writeUInt16BE(0, 8); // no authority
    const question = cases[0]!.subarray(12, 12 + 11 + 4);
    for (const ptr of [[0xc0, 12 + 15], [0xc0, 12 + 16], [0xc0, 12 + 40]]) {
      head.writeUInt16BE(1, 6);
      const wire = Buffer.concat([head, question, Buffer.from(ptr), Buffer.from([0, 16, 0, 1, 0, 0, 0, 0, 0, 0])]);
      assert.equal(decodeCommonResponse(wire), null);
      assert.throws(() => dnsPacket.decode(wire), /bad pointer|overflow/);
    }
    // An A record and an OPT with options are dns-packet's.
    assert.equal(agree(dnsPacket.encode({ id, type: 'response', questions: [{ name: 'a.example', type: 'TXT' }], answers: [{ name: 'a.example', type: 'A', data: '192.0.2.1' }] })), 'fallback');
  });
});
