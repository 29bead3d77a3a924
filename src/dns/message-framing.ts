import { EmblemError } from '../core/errors.js';
import { RRType } from './rr-type.js';

/**
 * Checks the framing of a DNS message from the network before dns-packet decodes it. dns-packet reads names and
 * counts strictly, but slices RDATA with Buffer#subarray, which clamps at the end of the buffer: a message cut
 * inside a TXT character-string, or whose RDLENGTH runs past its end, decodes to a *shorter* value instead of an
 * error. A cut emblem record must never be taken for a shorter one, so every record is walked here first:
 * names stay inside the message, every RDATA lies wholly inside it, TXT character-strings exactly fill their
 * RDATA, and A/AAAA RDATA have their fixed sizes (dns-packet reads 4/16 bytes whatever RDLENGTH says).
 * One linear pass; a hostile count cannot make it loop, since each record consumes at least 11 bytes.
 * Throws DNS_RESPONSE_MALFORMED naming the first defect. Bytes after the last record are left to the caller.
 */
export function assertMessageFraming(bytes: Uint8Array): void {
  const fail = (why: string): never => {
    throw new EmblemError('DNS_RESPONSE_MALFORMED', why);
  };
  const need = (end: number, what: string): void => {
    if (end > bytes.length) fail(`${what} runs past the end of the message (${bytes.length} bytes)`);
  };
  const u16 = (o: number): number => (bytes[o]! << 8) | bytes[o + 1]!;
  /** Offset just past the name at `o` (labels, then a zero octet or a compression pointer). */
  const skipName = (o: number, what: string): number => {
    for (;;) {
      need(o + 1, what);
      const len = bytes[o]!;
      if (len === 0) return o + 1;
      if ((len & 0xc0) === 0xc0) {
        need(o + 2, what);
        return o + 2;
      }
      if (len & 0xc0) fail(`${what} has a reserved label type (first octet 0x${len.toString(16)})`);
      need(o + 1 + len, what);
      o += 1 + len;
    }
  };

  need(12, 'the header');
  let o = 12;
  const qdcount = u16(4);
  for (let i = 0; i < qdcount; i++) {
    o = skipName(o, `question ${i + 1}`);
    need(o + 4, `question ${i + 1}`);
    o += 4;
  }
  const sections: Array<[string, number]> = [['answer', u16(6)], ['authority', u16(8)], ['additional', u16(10)]];
  for (const [section, count] of sections) {
    for (let i = 0; i < count; i++) {
      const what = `${section} record ${i + 1}`;
      o = skipName(o, what);
      need(o + 10, what);
      const type = u16(o);
      const rdlength = u16(o + 8);
      o += 10;
      need(o + rdlength, `the RDATA of ${what} (RDLENGTH ${rdlength})`);
      if (type === RRType.TXT) {
        // RFC 1035 §3.3.14: one or more <character-string>s filling RDATA exactly.
        for (let p = o; p < o + rdlength; ) {
          const len = bytes[p]!;
          if (p + 1 + len > o + rdlength) fail(`a TXT character-string of ${what} runs past its RDATA`);
          p += 1 + len;
        }
      } else if ((type === RRType.A && rdlength !== 4) || (type === RRType.AAAA && rdlength !== 16)) {
        fail(`${what}: ${type === RRType.A ? 'A' : 'AAAA'} RDATA of ${rdlength} bytes`);
      }
      o += rdlength;
    }
  }
}
