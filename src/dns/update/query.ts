import { randomInt } from 'node:crypto';
import { EmblemError } from '../../core/errors.js';
import { nameToWire, type NameKey } from '../domain-name.js';
import { tcpRoundTrip } from './client.js';
import type { UpdateRecord } from './message.js';
import { skipName } from './tsig.js';

function readName(msg: Buffer, offset: number): string {
  const labels: string[] = [];
  let p = offset;
  for (let guard = 0; guard < 128; guard++) {
    if (p >= msg.length) throw new EmblemError('DNS_RESPONSE_MALFORMED', 'name runs past the end');
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

/**
 * Asks one server directly (TCP, RD=0) for the RRset `name`/`type` and returns the answer records with their raw
 * RDATA, as the publishing channels compare them. Only types whose RDATA holds no compressible names are asked
 * (TXT, IHLE), so the RDATA bytes are exactly what was published. NXDOMAIN and NODATA give [].
 */
export async function queryRecords(host: string, port: number, name: NameKey, type: number, timeoutMs: number): Promise<UpdateRecord[]> {
  const id = randomInt(0, 65536);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(1, 4);
  const q = Buffer.concat([header, nameToWire(name), Buffer.from([type >> 8, type & 0xff, 0, 1])]);
  const msg = await tcpRoundTrip(host, port, q, timeoutMs);
  if (msg.length < 12 || msg.readUInt16BE(0) !== id) throw new EmblemError('DNS_RESPONSE_MALFORMED', `${host}:${port} answered another question`);
  const rcode = msg[3]! & 0xf;
  if (rcode === 3) return [];
  if (rcode !== 0) throw new EmblemError('DNS_QUERY_FAILED', `${host}:${port} answered RCODE ${rcode} for ${name}/${type}`);
  let p = 12;
  for (let i = 0; i < msg.readUInt16BE(4); i++) p = skipName(msg, p) + 4;
  const out: UpdateRecord[] = [];
  for (let i = 0; i < msg.readUInt16BE(6); i++) {
    const owner = readName(msg, p);
    p = skipName(msg, p);
    if (p + 10 > msg.length) throw new EmblemError('DNS_RESPONSE_MALFORMED', 'truncated record');
    const rtype = msg.readUInt16BE(p);
    const ttl = msg.readUInt32BE(p + 4);
    const len = msg.readUInt16BE(p + 8);
    const rdata = Buffer.from(msg.subarray(p + 10, p + 10 + len));
    p += 10 + len;
    if (rtype === type && owner === name) out.push({ name: owner, type: rtype, ttl, rdata });
  }
  return out;
}
