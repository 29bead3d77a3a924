import { EmblemError } from '../core/errors.js';
import { isAtOrBelow, nameToWire, toFqdn, type NameKey } from './domain-name.js';
import { emblemRecords, type PublishableItem, type PublishEra } from './emblem-records.js';
import { addressRdata } from './rdata.js';
import { DEFAULT_IHLE_TYPE, RRType } from './rr-type.js';
import type { ZoneFile, ZoneRecord } from './zone-file.js';

export interface EmblemZoneSpec {
  origin: NameKey;
  /** Emblem records to publish, by owner name. */
  owners: Array<{ owner: NameKey; items: PublishableItem[] }>;
  /** A/AAAA records (address assets are matched through them; DNS-02 additional processing is seen on A queries). */
  addresses?: Array<{ owner: NameKey; ip: string }>;
  /** Name servers for the apex NS RRset; in-zone ones need `nameServerAddresses`. */
  nameServers?: NameKey[];
  nameServerAddresses?: string[];
  era?: PublishEra;
  ttl?: number;
  serial?: number;
  ihleType?: number;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/**
 * A complete zone for emblem records: SOA and NS at the apex (with addresses for in-zone name servers, which
 * checkzone tools require), optional A/AAAA, then the TXT/IHLE records per owner.
 */
export function buildEmblemZone(spec: EmblemZoneSpec): { zone: ZoneFile; skipped: PublishableItem[] } {
  const ttl = spec.ttl ?? 3600;
  const origin = spec.origin;
  const nameServers = spec.nameServers?.length ? spec.nameServers : [origin === '' ? 'ns1' : `ns1.${origin}`];
  const serial = spec.serial ?? Math.floor(Date.now() / 1000);
  const hostmaster = origin === '' ? 'hostmaster' : `hostmaster.${origin}`;
  const records: ZoneRecord[] = [
    {
      owner: origin,
      ttl,
      type: RRType.SOA,
      // refresh 1h, retry 15m, expire 14d, negative TTL 5m: ordinary values; checkzone tools accept them.
      rdata: Buffer.concat([nameToWire(nameServers[0]!), nameToWire(hostmaster), u32(serial), u32(3600), u32(900), u32(1209600), u32(300)]),
    },
    ...nameServers.map((ns) => ({ owner: origin, ttl, type: RRType.NS, rdata: nameToWire(ns) })),
  ];
  const inZoneServers = nameServers.filter((ns) => isAtOrBelow(ns, origin));
  if (inZoneServers.length > 0) {
    const addresses = spec.nameServerAddresses?.length ? spec.nameServerAddresses : ['127.0.0.1'];
    for (const ns of inZoneServers) for (const ip of addresses) records.push({ owner: ns, ttl, ...addressRdata(ip) });
  }
  for (const a of spec.addresses ?? []) {
    if (!isAtOrBelow(a.owner, origin)) throw new EmblemError('USAGE', `${toFqdn(a.owner)} is outside the zone ${toFqdn(origin)}`);
    records.push({ owner: a.owner, ttl, ...addressRdata(a.ip) });
  }
  const skipped: PublishableItem[] = [];
  for (const { owner, items } of spec.owners) {
    if (!isAtOrBelow(owner, origin)) throw new EmblemError('USAGE', `${toFqdn(owner)} is outside the zone ${toFqdn(origin)}`);
    const out = emblemRecords(items, owner, { era: spec.era ?? 'both', ttl, ihleType: spec.ihleType ?? DEFAULT_IHLE_TYPE });
    records.push(...out.records);
    skipped.push(...out.skipped);
  }
  return { zone: { origin, records }, skipped };
}
