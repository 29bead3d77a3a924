import { labelKeyFromBytes, type NameKey } from './domain-name.js';
import { DnsLimits } from './limits.js';
import { RRType } from './rr-type.js';

/** RCODEs the server sends (RFC 1035 §4.1.1, RFC 6891 §6.1.3 for BADVERS). */
export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, BADVERS: 16 } as const;

/** What the server needs from an incoming query; `questionEnd` lets it echo the question bytes as sent. */
export interface DnsQuery {
  id: number;
  /** Header flags word of the query. */
  flags: number;
  opcode: number;
  qname: NameKey;
  qtype: number;
  qclass: number;
  /** Offset just past the question (the question occupies [12, questionEnd)). */
  questionEnd: number;
  edns: { payload: number; version: number; dnssecOk: boolean } | null;
}

export type QueryParse =
  | { kind: 'query'; query: DnsQuery }
  /** Answerable with an error RCODE and no question (we could not make sense of it). */
  | { kind: 'error'; id: number; flags: number; rcode: number; reason: string }
  /** Not worth an answer: too short for a header, or a response (answering responses invites loops). */
  | { kind: 'drop'; reason: string };

/** Skips a name in an additional record; pointers end a name, so no pointer is ever followed here. */
function skipName(buf: Uint8Array, offset: number): number {
  let o = offset;
  let total = 0;
  while (true) {
    if (o >= buf.length) return -1;
    const len = buf[o]!;
    if ((len & 0xc0) === 0xc0) return o + 2 <= buf.length ? o + 2 : -1;
    if (len & 0xc0) return -1; // 0x40/0x80: obsolete/undefined label types
    o += 1 + len;
    total += 1 + len;
    if (total > DnsLimits.maxNameWireBytes) return -1;
    if (len === 0) return o <= buf.length ? o : -1;
  }
}

/**
 * Parses a query defensively (hostile input, RFC 1035 §4.1 / RFC 6891). Pure; never throws. Rules:
 * exactly one question; no compression pointer in the question name (nothing precedes it to point to, so a
 * pointer there is malformed and this also rules out pointer loops); answer and authority sections empty;
 * at most a few additional records, of which at most one OPT at the root; no trailing bytes.
 */
export function parseQuery(buf: Uint8Array): QueryParse {
  if (buf.length < 12) return { kind: 'drop', reason: 'shorter than a DNS header' };
  const id = (buf[0]! << 8) | buf[1]!;
  const flags = (buf[2]! << 8) | buf[3]!;
  if (flags & 0x8000) return { kind: 'drop', reason: 'QR bit set (a response, not a query)' };
  const opcode = (flags >> 11) & 0xf;
  const qdcount = (buf[4]! << 8) | buf[5]!;
  const ancount = (buf[6]! << 8) | buf[7]!;
  const nscount = (buf[8]! << 8) | buf[9]!;
  const arcount = (buf[10]! << 8) | buf[11]!;
  const err = (rcode: number, reason: string): QueryParse => ({ kind: 'error', id, flags, rcode, reason });
  if (opcode !== 0) return err(Rcode.NOTIMP, `opcode ${opcode} not implemented`);
  if (qdcount !== 1) return err(Rcode.FORMERR, `QDCOUNT ${qdcount} (must be 1)`);
  if (ancount !== 0 || nscount !== 0) return err(Rcode.FORMERR, 'answer or authority records in a query');
  if (arcount > DnsLimits.maxQueryAdditionalRecords) return err(Rcode.FORMERR, `ARCOUNT ${arcount} too large`);

  let o = 12;
  const labels: string[] = [];
  let wire = 0;
  while (true) {
    if (o >= buf.length) return err(Rcode.FORMERR, 'question name truncated');
    const len = buf[o]!;
    if (len & 0xc0) return err(Rcode.FORMERR, 'compression pointer or bad label type in question');
    wire += len + 1;
    if (wire > DnsLimits.maxNameWireBytes) return err(Rcode.FORMERR, 'question name longer than 255 octets');
    if (len === 0) {
      o++;
      break;
    }
    if (o + 1 + len > buf.length) return err(Rcode.FORMERR, 'question label truncated');
    labels.push(labelKeyFromBytes(buf, o + 1, o + 1 + len));
    o += 1 + len;
  }
  if (o + 4 > buf.length) return err(Rcode.FORMERR, 'question type/class truncated');
  const qtype = (buf[o]! << 8) | buf[o + 1]!;
  const qclass = (buf[o + 2]! << 8) | buf[o + 3]!;
  o += 4;
  const questionEnd = o;

  let edns: DnsQuery['edns'] = null;
  for (let i = 0; i < arcount; i++) {
    const nameStart = o;
    o = skipName(buf, o);
    if (o < 0 || o + 10 > buf.length) return err(Rcode.FORMERR, 'additional record truncated');
    const type = (buf[o]! << 8) | buf[o + 1]!;
    const klass = (buf[o + 2]! << 8) | buf[o + 3]!;
    const ttl = ((buf[o + 4]! << 24) >>> 0) + ((buf[o + 5]! << 16) | (buf[o + 6]! << 8) | buf[o + 7]!);
    const rdlen = (buf[o + 8]! << 8) | buf[o + 9]!;
    o += 10;
    if (o + rdlen > buf.length) return err(Rcode.FORMERR, 'additional RDATA truncated');
    if (type === RRType.OPT) {
      if (edns) return err(Rcode.FORMERR, 'more than one OPT record');
      if (buf[nameStart] !== 0) return err(Rcode.FORMERR, 'OPT owner is not the root');
      // OPT options are walked only to check their lengths add up (RFC 6891 §6.1.2).
      let p = o;
      while (p < o + rdlen) {
        if (p + 4 > o + rdlen) return err(Rcode.FORMERR, 'OPT option truncated');
        const optlen = (buf[p + 2]! << 8) | buf[p + 3]!;
        p += 4 + optlen;
      }
      if (p !== o + rdlen) return err(Rcode.FORMERR, 'OPT option runs past RDATA');
      edns = { payload: klass, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0 };
    }
    o += rdlen;
  }
  if (o !== buf.length) return err(Rcode.FORMERR, `${buf.length - o} trailing byte(s) after the message`);
  return { kind: 'query', query: { id, flags, opcode, qname: labels.join('.'), qtype, qclass, questionEnd, edns } };
}
