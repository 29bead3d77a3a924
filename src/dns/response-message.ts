import { nameLabels, nameToWire, type NameKey } from './domain-name.js';
import type { AnswerPlan, RRset } from './authoritative-data.js';
import { DnsLimits } from './limits.js';
import type { DnsQuery } from './query-message.js';
import { RRType, CLASS_IN } from './rr-type.js';

const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_CD = 0x0010;

/**
 * Everything after the question for one (qname, qtype, size limit), encoded once and reused for every query
 * with the same key: compression pointers only point into the question name, whose label layout is the same
 * whatever the letter case the client used.
 */
export interface EncodedAnswer {
  /** AA, TC and the low 4 RCODE bits. */
  flags: number;
  /** Upper 8 bits of an extended RCODE (BADVERS), carried in OPT. */
  extendedRcode: number;
  ancount: number;
  nscount: number;
  arcount: number;
  sections: Buffer;
}

/** Offsets of every suffix of the question name in the message (the name starts at offset 12). */
function suffixOffsets(qname: NameKey): Map<NameKey, number> {
  const labels = nameLabels(qname);
  const wire = nameToWire(qname);
  const map = new Map<NameKey, number>();
  let o = 0;
  for (let i = 0; i < labels.length; i++) {
    map.set(labels.slice(i).join('.'), 12 + o);
    o += 1 + wire[o]!;
  }
  return map;
}

function encodeOwner(owner: NameKey, offsets: Map<NameKey, number>): Buffer {
  const labels = nameLabels(owner);
  for (let i = 0; i < labels.length; i++) {
    const ptr = offsets.get(labels.slice(i).join('.'));
    if (ptr !== undefined) {
      const head = nameToWire(labels.slice(0, i).join('.'));
      return Buffer.concat([head.subarray(0, head.length - 1), Buffer.from([0xc0 | (ptr >> 8), ptr & 0xff])]);
    }
  }
  return nameToWire(owner);
}

function encodeRRsets(sets: RRset[], offsets: Map<NameKey, number>): { bytes: Buffer[]; count: number } {
  const bytes: Buffer[] = [];
  let count = 0;
  for (const set of sets) {
    const owner = encodeOwner(set.owner, offsets);
    for (const rdata of set.rdatas) {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt16BE(set.type, 0);
      fixed.writeUInt16BE(CLASS_IN, 2);
      fixed.writeUInt32BE(set.ttl, 4);
      fixed.writeUInt16BE(rdata.length, 8);
      bytes.push(owner, fixed, rdata);
      count++;
    }
  }
  return { bytes, count };
}

/** Bytes an OPT record adds to a response. */
export const OPT_RECORD_BYTES = 11;

/**
 * Encodes a plan within `limit` bytes for a question of `questionBytes` bytes. When the whole answer does not
 * fit, the result is TC with no records at all: never a partial RRset (RFC 2181 §9), and DNS-02 requires TC
 * rather than dropping the IHLE RRset from the Additional section.
 */
export function encodeAnswer(plan: AnswerPlan, qname: NameKey, questionBytes: number, limit: number, withOpt: boolean): EncodedAnswer {
  const offsets = suffixOffsets(qname);
  const an = encodeRRsets(plan.answer, offsets);
  const ns = encodeRRsets(plan.authority, offsets);
  const ar = encodeRRsets(plan.additional, offsets);
  const sections = Buffer.concat([...an.bytes, ...ns.bytes, ...ar.bytes]);
  const flags = (plan.authoritative ? FLAG_AA : 0) | (plan.rcode & 0xf);
  const total = 12 + questionBytes + sections.length + (withOpt ? OPT_RECORD_BYTES : 0);
  if (total > limit) {
    return { flags: flags | FLAG_TC, extendedRcode: plan.rcode >> 4, ancount: 0, nscount: 0, arcount: 0, sections: Buffer.alloc(0) };
  }
  return { flags, extendedRcode: plan.rcode >> 4, ancount: an.count, nscount: ns.count, arcount: ar.count, sections };
}

/** The same answer with TC set and no records: what RRL "slips" to a client instead of dropping the answer. */
export function truncatedBody(body: EncodedAnswer): EncodedAnswer {
  return { flags: body.flags | FLAG_TC, extendedRcode: body.extendedRcode, ancount: 0, nscount: 0, arcount: 0, sections: Buffer.alloc(0) };
}

/** The full response: header, the question exactly as the client sent it, the cached sections, then OPT. */
export function assembleResponse(queryBuf: Uint8Array, query: DnsQuery, body: EncodedAnswer, udpPayload: number): Buffer {
  const qlen = query.questionEnd - 12;
  const withOpt = query.edns !== null;
  const out = Buffer.allocUnsafe(12 + qlen + body.sections.length + (withOpt ? OPT_RECORD_BYTES : 0));
  out.writeUInt16BE(query.id, 0);
  out.writeUInt16BE(FLAG_QR | (query.flags & (0x7800 | FLAG_RD | FLAG_CD)) | body.flags, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(body.ancount, 6);
  out.writeUInt16BE(body.nscount, 8);
  out.writeUInt16BE(body.arcount + (withOpt ? 1 : 0), 10);
  out.set(queryBuf.subarray(12, query.questionEnd), 12);
  let o = 12 + qlen;
  body.sections.copy(out, o);
  o += body.sections.length;
  if (withOpt) {
    out[o] = 0;
    out.writeUInt16BE(RRType.OPT, o + 1);
    out.writeUInt16BE(udpPayload, o + 3);
    // TTL field: extended RCODE, version 0, DO copied from the query (RFC 3225 §3).
    out[o + 5] = body.extendedRcode;
    out[o + 6] = 0;
    out.writeUInt16BE(query.edns!.dnssecOk ? 0x8000 : 0, o + 7);
    out.writeUInt16BE(0, o + 9);
  }
  return out;
}

/** A bare error response (FORMERR, NOTIMP) for a query whose question could not be used. */
export function errorResponse(id: number, queryFlags: number, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(FLAG_QR | (queryFlags & (0x7800 | FLAG_RD | FLAG_CD)) | (rcode & 0xf), 2);
  return out;
}

/** The byte budget for one response (RFC 6891 §6.2.5: requestor's payload, at least 512, at most ours). */
export function responseLimit(query: DnsQuery, transport: 'udp' | 'tcp', serverPayload: number): number {
  if (transport === 'tcp') return DnsLimits.maxMessageBytes;
  if (!query.edns) return DnsLimits.minUdpPayload;
  return Math.min(Math.max(query.edns.payload, DnsLimits.minUdpPayload), serverPayload);
}
