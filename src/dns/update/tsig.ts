import { createHmac, timingSafeEqual } from 'node:crypto';
import { EmblemError } from '../../core/errors.js';
import { nameToWire, parseName, toFqdn, type NameKey } from '../domain-name.js';
import { UpdateLimits } from './limits.js';

/**
 * TSIG (RFC 8945) with HMAC-SHA256, on raw DNS messages. No maintained npm library implements TSIG (dns-packet
 * only knows the record layout), so this is our own code, tested against RFC 8945 §4.3 rules with Knot and BIND.
 */
export interface TsigKey {
  /** Key name as a NameKey (lower case, no trailing dot). */
  name: NameKey;
  algorithm: 'hmac-sha256';
  secret: Buffer;
}

const ALGORITHM_NAME: NameKey = 'hmac-sha256';
const CLASS_ANY = 255;
const TYPE_TSIG = 250;

/** TSIG error codes (RFC 8945 §3). */
export const TsigRcode = { BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;

/**
 * Reads a key file as written by BIND's `tsig-keygen` (and accepted by Knot's `keymgr`-style configs):
 *   key "name" { algorithm hmac-sha256; secret "base64"; };
 */
export function parseTsigKeyFile(text: string, where = 'TSIG key file'): TsigKey {
  if (text.length > UpdateLimits.maxKeyFileBytes) throw new EmblemError('TSIG_KEY_INVALID', `${where} is too large`);
  // Comments are stripped outside quoted strings only: a base64 secret may contain "//" (about 1 key in 100).
  const stripped = text.replace(/"[^"\n]*"|#[^\n]*|\/\/[^\n]*/g, (m) => (m.startsWith('"') ? m : ''));
  const m = /key\s+"?([A-Za-z0-9._-]+)"?\s*\{([^}]*)\}/.exec(stripped);
  if (!m) throw new EmblemError('TSIG_KEY_INVALID', `${where}: no key "name" { ... } block (expected tsig-keygen output)`);
  const body = m[2]!;
  const alg = /algorithm\s+"?([A-Za-z0-9-]+)"?\s*;/.exec(body)?.[1]?.toLowerCase();
  const secret = /secret\s+"([A-Za-z0-9+/=\s]+)"\s*;/.exec(body)?.[1];
  if (alg !== 'hmac-sha256') throw new EmblemError('TSIG_KEY_INVALID', `${where}: algorithm ${alg ?? '(missing)'} is not supported; use hmac-sha256 (tsig-keygen -a hmac-sha256)`);
  if (!secret) throw new EmblemError('TSIG_KEY_INVALID', `${where}: no secret "..." line`);
  const bytes = Buffer.from(secret.replace(/\s+/g, ''), 'base64');
  if (bytes.length < 16) throw new EmblemError('TSIG_KEY_INVALID', `${where}: secret shorter than 16 bytes`);
  return { name: parseName(m[1]!), algorithm: 'hmac-sha256', secret: bytes };
}

function u48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(seconds, 0, 6);
  return b;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** The TSIG variables that are digested (RFC 8945 §4.3.3). */
function variables(key: TsigKey, timeSigned: number, fudge: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([
    nameToWire(key.name),
    u16(CLASS_ANY),
    Buffer.from([0, 0, 0, 0]),
    nameToWire(ALGORITHM_NAME),
    u48(timeSigned),
    u16(fudge),
    u16(error),
    u16(other.length),
    other,
  ]);
}

function tsigRecord(key: TsigKey, timeSigned: number, fudge: number, mac: Buffer, originalId: number, error: number, other: Buffer): Buffer {
  const rdata = Buffer.concat([nameToWire(ALGORITHM_NAME), u48(timeSigned), u16(fudge), u16(mac.length), mac, u16(originalId), u16(error), u16(other.length), other]);
  return Buffer.concat([nameToWire(key.name), u16(TYPE_TSIG), u16(CLASS_ANY), Buffer.from([0, 0, 0, 0]), u16(rdata.length), rdata]);
}

/** Signs a request: appends the TSIG RR and increments ARCOUNT. Returns the message and the MAC (for the reply). */
export function signRequest(message: Buffer, key: TsigKey, timeSigned: number, fudge = 300): { message: Buffer; mac: Buffer } {
  const mac = createHmac('sha256', key.secret).update(message).update(variables(key, timeSigned, fudge, 0, Buffer.alloc(0))).digest();
  const signed = Buffer.concat([message, tsigRecord(key, timeSigned, fudge, mac, message.readUInt16BE(0), 0, Buffer.alloc(0))]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { message: signed, mac };
}

/** Offset just past a (possibly compressed) name starting at `offset`. */
export function skipName(msg: Buffer, offset: number): number {
  let p = offset;
  for (let guard = 0; guard < 128; guard++) {
    if (p >= msg.length) throw new EmblemError('DNS_RESPONSE_MALFORMED', 'name runs past the end of the message');
    const len = msg[p]!;
    if (len === 0) return p + 1;
    if ((len & 0xc0) === 0xc0) return p + 2;
    if ((len & 0xc0) !== 0) throw new EmblemError('DNS_RESPONSE_MALFORMED', 'bad label type');
    p += 1 + len;
  }
  throw new EmblemError('DNS_RESPONSE_MALFORMED', 'name too long');
}

/** Offset of the last RR of the message (where a TSIG must be), or -1 when there is no additional record. */
function lastRecordOffset(msg: Buffer): number {
  if (msg.length < 12) throw new EmblemError('DNS_RESPONSE_MALFORMED', 'message shorter than a header');
  const qd = msg.readUInt16BE(4);
  const rrs = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
  if (msg.readUInt16BE(10) === 0) return -1;
  let p = 12;
  for (let i = 0; i < qd; i++) p = skipName(msg, p) + 4;
  let last = -1;
  for (let i = 0; i < rrs; i++) {
    last = p;
    p = skipName(msg, p);
    if (p + 10 > msg.length) throw new EmblemError('DNS_RESPONSE_MALFORMED', 'record header runs past the end');
    p += 10 + msg.readUInt16BE(p + 8);
    if (p > msg.length) throw new EmblemError('DNS_RESPONSE_MALFORMED', 'RDATA runs past the end');
  }
  return last;
}

export interface ParsedTsig {
  keyName: NameKey;
  algorithm: NameKey;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
  /** The message without the TSIG RR, ARCOUNT decremented and the original ID restored (what was digested). */
  unsigned: Buffer;
}

function readName(msg: Buffer, offset: number): string {
  const labels: string[] = [];
  let p = offset;
  for (let guard = 0; guard < 128; guard++) {
    const len = msg[p]!;
    if (len === 0) return labels.join('.').toLowerCase();
    if ((len & 0xc0) === 0xc0) {
      p = ((len & 0x3f) << 8) | msg[p + 1]!;
      continue;
    }
    labels.push(msg.subarray(p + 1, p + 1 + len).toString('latin1'));
    p += 1 + len;
  }
  throw new EmblemError('DNS_RESPONSE_MALFORMED', 'name loop');
}

/** Finds and parses the TSIG RR at the end of a message, or null when the message is not signed. */
export function parseTsig(msg: Buffer): ParsedTsig | null {
  const at = lastRecordOffset(msg);
  if (at < 0) return null;
  let p = skipName(msg, at);
  if (msg.readUInt16BE(p) !== TYPE_TSIG) return null;
  const keyName = readName(msg, at);
  const rdStart = p + 10;
  const rdEnd = rdStart + msg.readUInt16BE(p + 8);
  p = skipName(msg, rdStart);
  const algorithm = readName(msg, rdStart);
  if (p + 10 > rdEnd) throw new EmblemError('DNS_RESPONSE_MALFORMED', 'TSIG RDATA too short');
  const timeSigned = msg.readUIntBE(p, 6);
  const fudge = msg.readUInt16BE(p + 6);
  const macLen = msg.readUInt16BE(p + 8);
  p += 10;
  const mac = Buffer.from(msg.subarray(p, p + macLen));
  p += macLen;
  if (p + 6 > rdEnd) throw new EmblemError('DNS_RESPONSE_MALFORMED', 'TSIG RDATA too short');
  const originalId = msg.readUInt16BE(p);
  const error = msg.readUInt16BE(p + 2);
  const otherLen = msg.readUInt16BE(p + 4);
  const other = Buffer.from(msg.subarray(p + 6, p + 6 + otherLen));
  const unsigned = Buffer.from(msg.subarray(0, at));
  unsigned.writeUInt16BE(originalId, 0);
  unsigned.writeUInt16BE(msg.readUInt16BE(10) - 1, 10);
  return { keyName, algorithm, timeSigned, fudge, mac, originalId, error, other, unsigned };
}

/**
 * Verifies a signed response to a request whose MAC was `requestMac` (RFC 8945 §5.3): the MAC covers the request
 * MAC (length-prefixed), the response without its TSIG, and the TSIG variables. A TSIG error in the response
 * (BADSIG/BADKEY/BADTIME: the server rejected our signature) is reported with its own code.
 */
export function verifyResponse(msg: Buffer, key: TsigKey, requestMac: Buffer, nowSeconds: number, server: string): void {
  const tsig = parseTsig(msg);
  if (!tsig) {
    const rcode = msg.length >= 4 ? msg[3]! & 0xf : -1;
    // An unsigned NOTAUTH/REFUSED: the server is not authoritative for the zone (Knot) or refuses before TSIG.
    if (rcode === 9) throw new EmblemError('DNS_UPDATE_NOTAUTH', `${server} answered NOTAUTH unsigned: not authoritative for the zone, or it does not accept key ${toFqdn(key.name)}`);
    if (rcode === 5) throw new EmblemError('DNS_UPDATE_REFUSED', `${server} answered REFUSED unsigned`);
    throw new EmblemError('TSIG_UNSIGNED_RESPONSE', `${server} answered without TSIG`);
  }
  if (tsig.error === TsigRcode.BADSIG) throw new EmblemError('TSIG_BADSIG', `${server} rejected the TSIG signature (BADSIG): wrong secret for key ${toFqdn(key.name)}?`);
  if (tsig.error === TsigRcode.BADKEY) throw new EmblemError('TSIG_BADKEY', `${server} does not know TSIG key ${toFqdn(key.name)} (BADKEY)`);
  if (tsig.error !== 0 && tsig.error !== TsigRcode.BADTIME) throw new EmblemError('TSIG_ERROR', `${server} returned TSIG error ${tsig.error}`);
  if (tsig.keyName !== key.name || tsig.algorithm !== ALGORITHM_NAME) throw new EmblemError('TSIG_BADKEY', `${server} signed with another key or algorithm`);
  const expected = createHmac('sha256', key.secret)
    .update(u16(requestMac.length))
    .update(requestMac)
    .update(tsig.unsigned)
    .update(variables(key, tsig.timeSigned, tsig.fudge, tsig.error, tsig.other))
    .digest();
  // RFC 8945 §5.2.2.1: a truncated MAC must be at least half the hash length and 10 bytes; we accept only full ones.
  if (tsig.mac.length !== expected.length || !timingSafeEqual(tsig.mac, expected)) {
    throw new EmblemError('TSIG_RESPONSE_BADSIG', `the response from ${server} does not carry a valid TSIG signature`);
  }
  if (tsig.error === TsigRcode.BADTIME) {
    // RFC 8945 §5.2.3: a BADTIME answer is signed with our key and carries the server's time in Other Data.
    const serverTime = tsig.other.length === 6 ? tsig.other.readUIntBE(0, 6) : tsig.timeSigned;
    throw Object.assign(new EmblemError('TSIG_BADTIME', `${server} rejected the TSIG time (BADTIME): clocks differ by more than the fudge`), { serverTime });
  }
  if (Math.abs(nowSeconds - tsig.timeSigned) > tsig.fudge) {
    throw new EmblemError('TSIG_BADTIME', `the response from ${server} is signed at ${tsig.timeSigned}, outside the fudge of ${tsig.fudge}s`);
  }
}
