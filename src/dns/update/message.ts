import { EmblemError } from '../../core/errors.js';
import { nameToWire, type NameKey } from '../domain-name.js';
import { UpdateLimits } from './limits.js';

/** One resource record as the publishing channels see it: owner, type code, TTL, wire RDATA. */
export interface UpdateRecord {
  name: NameKey;
  type: number;
  ttl: number;
  rdata: Uint8Array;
}

const OPCODE_UPDATE = 5;
const CLASS_IN = 1;
const CLASS_NONE = 254;
const TYPE_SOA = 6;

function rr(name: NameKey, type: number, cls: number, ttl: number, rdata: Uint8Array): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(cls, 2);
  head.writeUInt32BE(ttl >>> 0, 4);
  head.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([nameToWire(name), head, Buffer.from(rdata)]);
}

/**
 * An RFC 2136 UPDATE message: zone section (zone, SOA, IN), no prerequisites, then the update section with the
 * deletions of individual RRs (class NONE, TTL 0, RFC 2136 §2.5.4) followed by the additions. The server applies
 * the whole message atomically (RFC 2136 §3.4.2), so a swap in one message is never seen half-done.
 */
export function buildUpdateMessage(id: number, zone: NameKey, change: { add: UpdateRecord[]; remove: UpdateRecord[] }): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(OPCODE_UPDATE << 11, 2);
  header.writeUInt16BE(1, 4); // ZOCOUNT
  header.writeUInt16BE(0, 6); // PRCOUNT
  header.writeUInt16BE(change.add.length + change.remove.length, 8); // UPCOUNT
  header.writeUInt16BE(0, 10); // ADCOUNT
  const zoneSection = Buffer.concat([nameToWire(zone), Buffer.from([0, TYPE_SOA, 0, CLASS_IN])]);
  const updates = [
    ...change.remove.map((r) => rr(r.name, r.type, CLASS_NONE, 0, r.rdata)),
    ...change.add.map((r) => rr(r.name, r.type, CLASS_IN, r.ttl, r.rdata)),
  ];
  const message = Buffer.concat([header, zoneSection, ...updates]);
  // Room for the TSIG RR (~100 bytes) under the TCP length prefix.
  if (message.length > UpdateLimits.maxMessageBytes - 200) {
    throw new EmblemError('LIMIT_EXCEEDED', `UPDATE message of ${message.length} bytes is too large; split the change`);
  }
  return message;
}

/** RCODE names for messages (RFC 1035, RFC 2136 §2.2). */
export const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED',
  6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE',
};
