import { isIPv4, isIPv6 } from 'node:net';
import { EmblemError } from '../core/errors.js';
import { formatTxtRdata, parseTxtRdata, unescapeToBytes } from './character-strings.js';
import { nameToWire, parseName, toFqdn, labelKeyFromBytes, type NameKey } from './domain-name.js';
import { formatGenericRdata, parseGenericRdata } from './generic-rdata.js';
import { RRType } from './rr-type.js';
import type { ZoneToken } from './zone-tokenizer.js';

/**
 * RDATA codecs for the types an ADEM zone needs (SOA, NS, A, AAAA, TXT) plus RFC 3597 generic RDATA for
 * everything else, IHLE included. RDATA is kept in wire form everywhere; presentation is derived from it, so a
 * zone file round-trips through parse -> wire -> render.
 */

function rdataError(why: string): EmblemError {
  return new EmblemError('DNS_RDATA_INVALID', why);
}

/** TTL / SOA timer values: decimal seconds or BIND units (1h30m, 2w). */
export function parseTtl(text: string): number {
  if (/^\d{1,10}$/.test(text)) {
    const n = Number(text);
    if (n > 0x7fffffff) throw rdataError(`TTL ${text} above 2^31-1`);
    return n;
  }
  const m = /^(\d+[smhdwSMHDW])+$/.exec(text);
  if (!m) throw rdataError(`invalid TTL ${JSON.stringify(text)}`);
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  for (const part of text.matchAll(/(\d+)([smhdw])/gi)) total += Number(part[1]) * unit[part[2]!.toLowerCase()]!;
  if (total > 0x7fffffff) throw rdataError(`TTL ${text} above 2^31-1`);
  return total;
}

export function isTtlToken(text: string): boolean {
  return /^\d{1,10}$/.test(text) || /^(\d+[smhdwSMHDW])+$/.test(text);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function ipv6Bytes(text: string): Buffer {
  // Expand "::" and an optional trailing dotted quad into 16 bytes.
  let head = text;
  let tail4: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail4 = dotted[1]!.split('.').map(Number);
    head = text.slice(0, -dotted[1]!.length) + '0:0';
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const l = left ? left.split(':') : [];
  const r = right !== undefined ? (right ? right.split(':') : []) : [];
  const fill = right !== undefined ? 8 - l.length - r.length : 0;
  const groups = [...l, ...Array(fill).fill('0'), ...r].map((g) => parseInt(g, 16));
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  if (dotted) out.set(tail4, 12);
  return out;
}

export function addressRdata(text: string): { type: number; rdata: Buffer } {
  if (isIPv4(text)) return { type: RRType.A, rdata: Buffer.from(text.split('.').map(Number)) };
  if (isIPv6(text)) return { type: RRType.AAAA, rdata: ipv6Bytes(text) };
  throw rdataError(`not an IP address: ${JSON.stringify(text)}`);
}

function formatIpv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // RFC 5952: compress the longest run (>1) of zero groups.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Reads an uncompressed name from RDATA (zone data never holds compression pointers). */
function readName(rdata: Uint8Array, offset: number): { key: NameKey; next: number } {
  const labels: string[] = [];
  let o = offset;
  while (true) {
    if (o >= rdata.length) throw rdataError('name runs past RDATA');
    const len = rdata[o]!;
    if (len === 0) return { key: labels.join('.'), next: o + 1 };
    if (len > 63 || o + 1 + len > rdata.length) throw rdataError('bad label in RDATA name');
    labels.push(labelKeyFromBytes(rdata, o + 1, o + 1 + len));
    o += 1 + len;
  }
}

function plain(tokens: ZoneToken[], count: number, type: string): string[] {
  if (tokens.length !== count) throw rdataError(`${type} needs ${count} field(s), got ${tokens.length}`);
  return tokens.map((t) => t.text);
}

/** Presentation tokens -> wire RDATA for `type`. Generic `\#` form is accepted for every type. */
export function parseRdata(type: number, tokens: ZoneToken[], origin: NameKey): Buffer {
  if (tokens[0]?.text === '\\#' && !tokens[0].quoted) return parseGenericRdata(tokens.map((t) => t.text));
  switch (type) {
    case RRType.A: {
      const [a] = plain(tokens, 1, 'A');
      if (!isIPv4(a!)) throw rdataError(`invalid IPv4 address ${JSON.stringify(a)}`);
      return addressRdata(a!).rdata;
    }
    case RRType.AAAA: {
      const [a] = plain(tokens, 1, 'AAAA');
      if (!isIPv6(a!)) throw rdataError(`invalid IPv6 address ${JSON.stringify(a)}`);
      return addressRdata(a!).rdata;
    }
    case RRType.NS:
    case RRType.CNAME: {
      const [n] = plain(tokens, 1, 'NS');
      return nameToWire(parseName(n!, origin));
    }
    case RRType.SOA: {
      const f = plain(tokens, 7, 'SOA');
      if (!/^\d{1,10}$/.test(f[2]!) || Number(f[2]) > 0xffffffff) throw rdataError(`invalid SOA serial ${JSON.stringify(f[2])}`);
      return Buffer.concat([
        nameToWire(parseName(f[0]!, origin)),
        nameToWire(parseName(f[1]!, origin)),
        u32(Number(f[2])),
        ...f.slice(3).map((t) => u32(parseTtl(t))),
      ]);
    }
    case RRType.TXT: {
      if (tokens.length === 0) throw rdataError('TXT needs at least one character-string');
      const parts: Buffer[] = [];
      for (const t of tokens) {
        const bytes = unescapeToBytes(t.text);
        if (bytes.length > 255) throw rdataError('TXT character-string longer than 255 bytes; split it into several quoted strings');
        parts.push(Buffer.from([bytes.length]), bytes);
      }
      return Buffer.concat(parts);
    }
    default:
      throw rdataError(`type ${type} must use RFC 3597 generic RDATA (\\# len hex)`);
  }
}

/** Wire RDATA -> presentation. Unknown types (IHLE included) use RFC 3597 `\#`. */
export function formatRdata(type: number, rdata: Uint8Array): string {
  switch (type) {
    case RRType.A:
      if (rdata.length === 4) return Array.from(rdata).join('.');
      break;
    case RRType.AAAA:
      if (rdata.length === 16) return formatIpv6(rdata);
      break;
    case RRType.NS:
    case RRType.CNAME: {
      const { key, next } = readName(rdata, 0);
      if (next === rdata.length) return toFqdn(key);
      break;
    }
    case RRType.SOA: {
      const m = readName(rdata, 0);
      const r = readName(rdata, m.next);
      if (rdata.length === r.next + 20) {
        const view = Buffer.from(rdata.buffer, rdata.byteOffset, rdata.length);
        const nums = [0, 4, 8, 12, 16].map((o) => view.readUInt32BE(r.next + o));
        return `${toFqdn(m.key)} ${toFqdn(r.key)} ${nums.join(' ')}`;
      }
      break;
    }
    case RRType.TXT:
      parseTxtRdata(rdata);
      return formatTxtRdata(rdata);
  }
  return formatGenericRdata(rdata);
}

