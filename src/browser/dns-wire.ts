import { EmblemError } from '../core/errors.js';
import { DnsLimits } from '../dns/limits.js';
import { BrowserLimits } from './limits.js';
import type { NameKey } from '../dns/domain-name-text.js';

/**
 * The small part of the DNS wire format (RFC 1035 §4) a DoH client in a browser needs: one query out, one answer
 * in. The CLI uses dns-packet, which needs Node's Buffer; this module uses only Uint8Array so the extension can
 * bundle it. Everything read here comes from the network and is bounded: message size, record counts, name length,
 * compression jumps.
 */

/** One resource record as read from an answer; owner names are lower-case ASCII keys without the trailing dot. */
export interface WireRecord {
  name: NameKey;
  type: number;
  class: number;
  ttl: number;
  /** The RDATA bytes, uncompressed as sent. */
  rdata: Uint8Array;
  /** CNAME only: the target name (compression pointers resolved against the whole message). */
  target?: NameKey;
}

export interface WireMessage {
  id: number;
  flags: number;
  rcode: number;
  answers: WireRecord[];
  additionals: WireRecord[];
}

export const DNS_FLAG_TC = 0x0200;
export const DNS_FLAG_AD = 0x0020;
const FLAG_RD = 0x0100;
const CLASS_IN = 1;
const TYPE_CNAME = 5;

const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

function malformed(why: string): EmblemError {
  return new EmblemError('DNS_RESPONSE_MALFORMED', `malformed DNS answer: ${why}`);
}

/**
 * A query for `name` (a NameKey as normalizeUserName makes it: labels of printable ASCII without escapes) with
 * ID 0, as RFC 8484 §4.1 recommends for DoH so that HTTP caches can share answers, and RD set. Names with
 * escaped bytes are refused: browser host names never carry them.
 */
export function encodeDnsQuery(name: NameKey, qtype: number): Uint8Array {
  if (name.includes('\\')) throw new EmblemError('DNS_NAME_INVALID', `cannot query ${JSON.stringify(name)}: escaped bytes in a host name`);
  const labels = name === '' ? [] : name.split('.');
  const wireName: number[] = [];
  for (const label of labels) {
    if (label.length === 0 || label.length > DnsLimits.maxLabelBytes) throw new EmblemError('DNS_NAME_INVALID', `bad label in ${JSON.stringify(name)}`);
    wireName.push(label.length);
    for (let i = 0; i < label.length; i++) wireName.push(label.charCodeAt(i) & 0x7f);
  }
  wireName.push(0);
  if (wireName.length > DnsLimits.maxNameWireBytes) throw new EmblemError('DNS_NAME_INVALID', `${JSON.stringify(name)} is longer than 255 octets`);
  const out = new Uint8Array(12 + wireName.length + 4);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0);
  view.setUint16(2, FLAG_RD);
  view.setUint16(4, 1);
  out.set(wireName, 12);
  view.setUint16(12 + wireName.length, qtype);
  view.setUint16(12 + wireName.length + 2, CLASS_IN);
  return out;
}

/** Reads a (possibly compressed) name at `offset`; returns the key and the offset after the name in place. */
function readName(msg: Uint8Array, offset: number): { name: NameKey; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  let jumps = 0;
  let wire = 1;
  for (;;) {
    if (pos >= msg.length) throw malformed('name runs past the end');
    const len = msg[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length) throw malformed('truncated compression pointer');
      if (++jumps > BrowserLimits.maxCompressionJumps) throw malformed('compression loop');
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | msg[pos + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) throw malformed('unknown label type');
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    if (pos + 1 + len > msg.length) throw malformed('label runs past the end');
    wire += len + 1;
    if (wire > DnsLimits.maxNameWireBytes) throw malformed('name longer than 255 octets');
    let label = '';
    for (let i = pos + 1; i <= pos + len; i++) {
      let b = msg[i]!;
      if (b >= 0x41 && b <= 0x5a) b += 32;
      // Same escaping as src/dns/domain-name.ts labelKeyFromBytes: a hostile label "a.b" never equals two labels.
      label += b > 0x20 && b < 0x7f && b !== 0x2e && b !== 0x5c && b !== 0x22 && b !== 0x28 && b !== 0x29 && b !== 0x3b
        ? String.fromCharCode(b)
        : `\\${String(b).padStart(3, '0')}`;
    }
    labels.push(label);
    pos += 1 + len;
  }
  return { name: labels.join('.'), next };
}

/** Splits TXT RDATA into its character-strings and joins them (DNS-01: one value per record). */
export function txtValue(rdata: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let pos = 0; pos < rdata.length; ) {
    const len = rdata[pos]!;
    if (pos + 1 + len > rdata.length) throw malformed('TXT character-string runs past its RDATA');
    parts.push(rdata.subarray(pos + 1, pos + 1 + len));
    total += len;
    pos += 1 + len;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decodes a DNS response. Throws DNS_RESPONSE_MALFORMED for anything that does not parse; never reads out of bounds. */
export function decodeDnsMessage(msg: Uint8Array): WireMessage {
  if (msg.length > DnsLimits.maxMessageBytes) throw malformed(`longer than ${DnsLimits.maxMessageBytes} bytes`);
  if (msg.length < 12) throw malformed('shorter than a header');
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const id = view.getUint16(0);
  const flags = view.getUint16(2);
  if ((flags & 0x8000) === 0) throw malformed('not a response (QR=0)');
  const [qd, an, ns, ar] = [view.getUint16(4), view.getUint16(6), view.getUint16(8), view.getUint16(10)];
  if (an + ns + ar > DnsLimits.maxResponseRecords) throw malformed(`more than ${DnsLimits.maxResponseRecords} records`);
  if (qd > 1) throw malformed('more than one question');
  let pos = 12;
  for (let i = 0; i < qd; i++) {
    pos = readName(msg, pos).next + 4;
    if (pos > msg.length) throw malformed('question runs past the end');
  }
  const section = (count: number): WireRecord[] => {
    const out: WireRecord[] = [];
    for (let i = 0; i < count; i++) {
      const { name, next } = readName(msg, pos);
      if (next + 10 > msg.length) throw malformed('record header runs past the end');
      const type = view.getUint16(next);
      const klass = view.getUint16(next + 2);
      const ttl = view.getUint32(next + 4);
      const rdlength = view.getUint16(next + 8);
      const start = next + 10;
      if (start + rdlength > msg.length) throw malformed('RDATA runs past the end');
      const record: WireRecord = { name, type, class: klass, ttl, rdata: msg.slice(start, start + rdlength) };
      if (type === TYPE_CNAME) {
        const target = readName(msg, start);
        if (target.next !== start + rdlength) throw malformed('CNAME RDATA is not one name');
        record.target = target.name;
      }
      out.push(record);
      pos = start + rdlength;
    }
    return out;
  };
  const answers = section(an);
  section(ns);
  const additionals = section(ar);
  // Extended RCODE bits live in the OPT record (RFC 6891 §6.1.3): upper 8 bits in the TTL's top byte.
  let rcode = flags & 0x000f;
  const opt = additionals.find((r) => r.type === 41);
  if (opt) rcode |= (opt.ttl >>> 24) << 4;
  return { id, flags, rcode, answers, additionals: additionals.filter((r) => r.type !== 41) };
}
