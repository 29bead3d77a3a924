/**
 * Malformed DNS answers (issue 9 §5): dns-packet is lenient with a message cut short — a TXT character-string or
 * an RDATA whose RDLENGTH runs past the end of the packet is decoded as a shorter value (Buffer#slice clamps).
 * A cut emblem record must never be taken as a shorter one: the client rejects such answers as
 * DNS_RESPONSE_MALFORMED. Example tests for each defect, then fast-check properties over random truncations and
 * mutations of a realistic answer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EmblemError } from '../../src/core/errors.js';
import { txtRdata } from '../../src/dns/character-strings.js';
import { buildQuery, decodeResponse } from '../../src/dns/resolver.js';
import { DEFAULT_IHLE_TYPE, RRType } from '../../src/dns/rr-type.js';

fc.configureGlobal({ seed: 0x9e5, numRuns: 300 });

const NAME = 'emblem.example.org';
const SERVER = '127.0.0.1:53';

/** An ADEM-sized TXT value: 700 bytes, so three character-strings (255 + 255 + 190). */
const TXT_VALUE = Buffer.from(`adem-token=${'eyJhbGciOiJFUzUxMiJ9'.repeat(35)}`.slice(0, 700), 'utf8');
const IHLE_VALUE = Buffer.from('d83dd28443a10126a0581e', 'hex');

interface Built {
  query: Buffer;
  response: Buffer;
  /** Offsets (in `response`) of the TXT RR's RDLENGTH field and of its RDATA. */
  txtRdlengthAt: number;
  txtRdataAt: number;
  /** Offsets of every content byte of the TXT character-strings (not the length octets). */
  txtContentOffsets: number[];
  ihleRdlengthAt: number;
}

/**
 * Answer to a TXT question for NAME: the TXT record (three strings), an IHLE record (DNS-02 additional section
 * style, here in the answer), and an OPT record. Written byte by byte so each framing field has a known offset.
 */
function build(txt: Buffer = TXT_VALUE): Built {
  const query = buildQuery(NAME, RRType.TXT, 0x1234);
  const questionEnd = query.length - 11; // buildQuery appends an 11-byte OPT after the question
  const parts: Buffer[] = [];
  const header = Buffer.from(query.subarray(0, 12));
  header.writeUInt16BE(0x8180, 2); // QR RD RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(2, 6); // ANCOUNT: TXT, IHLE
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(1, 10); // ARCOUNT: OPT
  parts.push(header, query.subarray(12, questionEnd));
  let o = questionEnd;
  const rr = (type: number, rdata: Buffer) => {
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // pointer to the question name
    fixed.writeUInt16BE(type, 2);
    fixed.writeUInt16BE(1, 4);
    fixed.writeUInt32BE(300, 6);
    fixed.writeUInt16BE(rdata.length, 10);
    parts.push(fixed, rdata);
    const at = o;
    o += 12 + rdata.length;
    return { rdlengthAt: at + 10, rdataAt: at + 12 };
  };
  const rdata = txtRdata(txt);
  const t = rr(RRType.TXT, rdata);
  const i = rr(DEFAULT_IHLE_TYPE, IHLE_VALUE);
  const opt = Buffer.alloc(11);
  opt.writeUInt16BE(RRType.OPT, 1);
  opt.writeUInt16BE(1232, 3);
  parts.push(opt);
  const txtContentOffsets: number[] = [];
  for (let p = 0; p < rdata.length; ) {
    const len = rdata[p]!;
    for (let k = 1; k <= len; k++) txtContentOffsets.push(t.rdataAt + p + k);
    p += 1 + len;
  }
  return { query, response: Buffer.concat(parts), txtRdlengthAt: t.rdlengthAt, txtRdataAt: t.rdataAt, txtContentOffsets, ihleRdlengthAt: i.rdlengthAt };
}

type Rr = { type: string; data?: unknown };

function txtOf(message: { answers?: unknown[] }): Buffer[] {
  return ((message.answers ?? []) as Rr[]).filter((a) => a.type === 'TXT').map((a) => Buffer.concat(a.data as Buffer[]));
}

/**
 * Test oracle, independent of the code under test: the TXT RDATA of each answer record, sliced from the raw bytes
 * by its RDLENGTH. Fails the test if a record's RDATA is not wholly inside the message.
 */
function rawTxtAnswers(bytes: Buffer): Buffer[] {
  const skipName = (o: number): number => {
    for (;;) {
      const len = bytes[o]!;
      if (len === 0) return o + 1;
      if (len >= 0xc0) return o + 2;
      o += 1 + len;
    }
  };
  let o = 12;
  for (let i = 0; i < bytes.readUInt16BE(4); i++) o = skipName(o) + 4;
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.readUInt16BE(6); i++) {
    o = skipName(o);
    const type = bytes.readUInt16BE(o);
    const rdlength = bytes.readUInt16BE(o + 8);
    const rdata = bytes.subarray(o + 10, o + 10 + rdlength);
    assert.equal(rdata.length, rdlength, 'an accepted record lies wholly inside the message');
    if (type === RRType.TXT) {
      const strings: Buffer[] = [];
      for (let p = 0; p < rdata.length; p += 1 + rdata[p]!) {
        assert.ok(p + 1 + rdata[p]! <= rdata.length, 'an accepted character-string lies wholly inside its RDATA');
        strings.push(rdata.subarray(p + 1, p + 1 + rdata[p]!));
      }
      out.push(Buffer.concat(strings));
    }
    o += 10 + rdlength;
  }
  return out;
}

function assertMalformed(bytes: Buffer, query: Buffer, what: string): void {
  assert.throws(
    () => decodeResponse(bytes, query, SERVER),
    (err: unknown) => err instanceof EmblemError && err.code === 'DNS_RESPONSE_MALFORMED',
    `${what}: expected DNS_RESPONSE_MALFORMED`,
  );
}

describe('malformed answers: examples', () => {
  it('control: the whole answer decodes to the TXT value and the IHLE RDATA', () => {
    const b = build();
    const message = decodeResponse(b.response, b.query, SERVER);
    assert.deepEqual(txtOf(message), [TXT_VALUE]);
    const ihle = (message.answers as Rr[]).find((a) => a.type === `UNKNOWN_${DEFAULT_IHLE_TYPE}`);
    assert.deepEqual(ihle?.data, IHLE_VALUE);
  });

  it('a packet cut inside a TXT character-string (RDLENGTH runs past the end) is DNS_RESPONSE_MALFORMED', () => {
    const b = build();
    // Cut 100 bytes into the second string: today's decoder would have returned a 355-byte "token".
    assertMalformed(b.response.subarray(0, b.txtRdataAt + 256 + 100), b.query, 'cut inside the second string');
    assertMalformed(b.response.subarray(0, b.txtRdataAt + 1), b.query, 'cut after the first length octet');
    assertMalformed(b.response.subarray(0, b.txtRdataAt), b.query, 'cut at the start of RDATA');
  });

  it('a TXT RDLENGTH past the end of the packet (packet otherwise whole) is DNS_RESPONSE_MALFORMED', () => {
    const b = build();
    // Only the TXT record, then the message ends: RDLENGTH claims 40 bytes more than there are.
    const only = Buffer.from(b.response.subarray(0, b.txtRdataAt + txtRdata(TXT_VALUE).length));
    only.writeUInt16BE(1, 6);
    only.writeUInt16BE(0, 10);
    assert.deepEqual(txtOf(decodeResponse(only, b.query, SERVER)), [TXT_VALUE], 'control: the TXT record alone decodes');
    only.writeUInt16BE(only.readUInt16BE(b.txtRdlengthAt) + 40, b.txtRdlengthAt);
    assertMalformed(only, b.query, 'RDLENGTH + 40');
  });

  it('an IHLE RDLENGTH past the end of the packet is DNS_RESPONSE_MALFORMED', () => {
    const b = build();
    const cut = Buffer.from(b.response.subarray(0, b.ihleRdlengthAt + 2 + IHLE_VALUE.length));
    cut.writeUInt16BE(0, 10); // no OPT: the IHLE RDATA ends the message
    assert.equal(decodeResponse(cut, b.query, SERVER).answers?.length, 2, 'control');
    cut.writeUInt16BE(IHLE_VALUE.length + 5, b.ihleRdlengthAt);
    assertMalformed(cut, b.query, 'IHLE RDLENGTH + 5');
  });

  it('a character-string length octet that runs past RDATA (inside the packet) is DNS_RESPONSE_MALFORMED', () => {
    const b = build();
    const bad = Buffer.from(b.response);
    // The third string's length octet claims 255 where 190 bytes remain in RDATA (the IHLE record follows).
    bad[b.txtRdataAt + 2 * 256] = 255;
    assertMalformed(bad, b.query, 'third string length 255');
  });

  it('an RDLENGTH that ends inside a character-string (string runs past RDATA) is DNS_RESPONSE_MALFORMED', () => {
    const b = build();
    const bad = Buffer.from(b.response);
    bad.writeUInt16BE(bad.readUInt16BE(b.txtRdlengthAt) - 10, b.txtRdlengthAt);
    assertMalformed(bad, b.query, 'RDLENGTH - 10');
  });

  it('ANCOUNT larger than the records present is DNS_RESPONSE_MALFORMED', () => {
    const b = build();
    const bad = Buffer.from(b.response);
    bad.writeUInt16BE(3, 6);
    assertMalformed(bad, b.query, 'ANCOUNT 3');
  });

  it('an A record whose RDLENGTH is not 4 is DNS_RESPONSE_MALFORMED (dns-packet would read past it)', () => {
    const query = buildQuery(NAME, RRType.A, 7);
    const questionEnd = query.length - 11;
    const header = Buffer.from(query.subarray(0, 12));
    header.writeUInt16BE(0x8180, 2);
    header.writeUInt16BE(1, 6);
    header.writeUInt16BE(0, 10);
    const rr = (rdata: Buffer) => {
      const fixed = Buffer.alloc(12);
      fixed.writeUInt16BE(0xc00c, 0);
      fixed.writeUInt16BE(RRType.A, 2);
      fixed.writeUInt16BE(1, 4);
      fixed.writeUInt32BE(300, 6);
      fixed.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([header, query.subarray(12, questionEnd), fixed, rdata]);
    };
    assert.equal((decodeResponse(rr(Buffer.from([192, 0, 2, 1])), query, SERVER).answers as Rr[])[0]?.data, '192.0.2.1', 'control');
    assertMalformed(rr(Buffer.from([192, 0, 2, 1, 9, 9])), query, 'A with 6 bytes');
  });
});

describe('malformed answers: properties', () => {
  const b = build();

  it('every strict prefix of the answer is DNS_RESPONSE_MALFORMED (a cut answer is never accepted)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: b.response.length - 1 }), (cut) => {
        assertMalformed(b.response.subarray(0, cut), b.query, `cut at ${cut}`);
      }),
      { numRuns: 500 },
    );
  });

  it('TXT values of any size, cut anywhere inside the TXT RDATA: rejected, never a shorter value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 1500 }), fc.nat(), (value, n) => {
        const x = build(Buffer.from(value));
        const rdataLength = x.response.readUInt16BE(x.txtRdlengthAt);
        const cut = x.txtRdataAt + (n % rdataLength);
        assertMalformed(x.response.subarray(0, cut), x.query, `value ${value.length} bytes cut at RDATA+${cut - x.txtRdataAt}`);
      }),
    );
  });

  it('a larger TXT RDLENGTH (by 1..65535-len) is rejected; never decoded into a different value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), (extra) => {
        const bad = Buffer.from(b.response);
        const rdlength = bad.readUInt16BE(b.txtRdlengthAt);
        bad.writeUInt16BE(Math.min(0xffff, rdlength + extra), b.txtRdlengthAt);
        assertMalformed(bad, b.query, `RDLENGTH + ${extra}`);
      }),
    );
  });

  it('random byte mutations never crash the decoder, and an accepted answer never carries a cut TXT value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        (mutations, cut) => {
          const bad = Buffer.from(b.response);
          for (const [at, value] of mutations) bad[12 + (at % (bad.length - 12))] = value; // keep ID and flags
          const bytes = cut === undefined ? bad : bad.subarray(0, cut % bad.length);
          let message;
          try {
            message = decodeResponse(bytes, b.query, SERVER);
          } catch (err) {
            assert.ok(err instanceof EmblemError, `only EmblemErrors, got ${String(err)}`);
            assert.ok(['DNS_RESPONSE_MALFORMED', 'LIMIT_EXCEEDED'].includes(err.code), `code ${err.code}`);
            return;
          }
          // Accepted: each TXT answer must be exactly the character-strings its RDLENGTH frames in the bytes received.
          assert.deepEqual(txtOf(message), rawTxtAnswers(bytes), 'decoded TXT values = the raw framed RDATA');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('mutating only TXT string contents (not framing) is accepted with exactly the mutated value', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }), (mutations) => {
        const bad = Buffer.from(b.response);
        const expected = Buffer.from(TXT_VALUE);
        for (const [i, value] of mutations) {
          const k = i % b.txtContentOffsets.length;
          bad[b.txtContentOffsets[k]!] = value;
          expected[k] = value;
        }
        assert.deepEqual(txtOf(decodeResponse(bad, b.query, SERVER)), [expected]);
      }),
    );
  });
});
