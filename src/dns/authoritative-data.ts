import { EmblemError } from '../core/errors.js';
import { isAtOrBelow, nameLabels, toFqdn, type NameKey } from './domain-name.js';
import { CLASS_ANY, CLASS_IN, DEFAULT_IHLE_TYPE, RRType } from './rr-type.js';
import { Rcode } from './query-message.js';
import type { ZoneFile } from './zone-file.js';

/** All records of one type at one owner: the unit DNS answers in (never split, RFC 2181 §5). */
export interface RRset {
  owner: NameKey;
  type: number;
  ttl: number;
  rdatas: Buffer[];
}

/** One zone, indexed by owner and type for lookups. */
export interface IndexedZone {
  origin: NameKey;
  soa: RRset;
  /** Owner -> type -> RRset. Names that only exist as parents of other names (empty non-terminals) map to an empty Map. */
  nodes: Map<NameKey, Map<number, RRset>>;
}

/** What the server says for one (qname, qtype, qclass), before wire encoding. Pure data, cacheable. */
export interface AnswerPlan {
  rcode: number;
  authoritative: boolean;
  answer: RRset[];
  authority: RRset[];
  additional: RRset[];
}

export interface AuthoritativeData {
  zones: IndexedZone[];
  ihleType: number;
}

export function indexZones(files: ZoneFile[], ihleType = DEFAULT_IHLE_TYPE): AuthoritativeData {
  const zones: IndexedZone[] = [];
  for (const file of files) {
    if (zones.some((z) => z.origin === file.origin)) {
      throw new EmblemError('ZONE_SYNTAX', `zone ${toFqdn(file.origin)} given twice`);
    }
    const nodes = new Map<NameKey, Map<number, RRset>>();
    for (const r of file.records) {
      let node = nodes.get(r.owner);
      if (!node) nodes.set(r.owner, (node = new Map()));
      let set = node.get(r.type);
      if (!set) node.set(r.type, (set = { owner: r.owner, type: r.type, ttl: r.ttl, rdatas: [] }));
      // RFC 2181 §5.2: one TTL per RRset; use the smallest, and drop exact duplicates.
      set.ttl = Math.min(set.ttl, r.ttl);
      if (!set.rdatas.some((d) => d.equals(r.rdata))) set.rdatas.push(r.rdata);
    }
    // Empty non-terminals exist (NOERROR/NODATA), they are not NXDOMAIN (RFC 8020).
    for (const owner of [...nodes.keys()]) {
      const labels = nameLabels(owner);
      for (let i = 1; i < labels.length; i++) {
        const parent = labels.slice(i).join('.');
        if (!isAtOrBelow(parent, file.origin)) break;
        if (!nodes.has(parent)) nodes.set(parent, new Map());
      }
    }
    const soa = nodes.get(file.origin)?.get(RRType.SOA);
    if (!soa) throw new EmblemError('ZONE_SYNTAX', `zone ${toFqdn(file.origin)} has no SOA`);
    zones.push({ origin: file.origin, soa, nodes });
  }
  // Most specific zone first, so a child zone served alongside its parent wins.
  zones.sort((a, b) => nameLabels(b.origin).length - nameLabels(a.origin).length);
  return { zones, ihleType };
}

function negativeSoa(zone: IndexedZone): RRset {
  // RFC 2308 §3: the SOA in a negative answer carries min(SOA TTL, SOA MINIMUM).
  const rdata = zone.soa.rdatas[0]!;
  const minimum = rdata.readUInt32BE(rdata.length - 4);
  return { ...zone.soa, ttl: Math.min(zone.soa.ttl, minimum) };
}

/**
 * The authoritative answer for one question (RFC 1034 §4.3.2 without delegations or wildcards), plus DNS-02's
 * rule: whatever the QTYPE, an answer at a name holding IHLE records carries the whole IHLE RRset in the
 * Additional section unless it is already in the Answer section.
 */
export function planAnswer(data: AuthoritativeData, qname: NameKey, qtype: number, qclass: number): AnswerPlan {
  const refused: AnswerPlan = { rcode: Rcode.REFUSED, authoritative: false, answer: [], authority: [], additional: [] };
  if (qclass !== CLASS_IN && qclass !== CLASS_ANY) return refused;
  if (qtype === RRType.AXFR || qtype === RRType.IXFR) return refused;
  if (qtype === RRType.OPT) return { ...refused, rcode: Rcode.FORMERR };
  const zone = data.zones.find((z) => isAtOrBelow(qname, z.origin));
  if (!zone) return refused;
  const node = zone.nodes.get(qname);
  if (!node) return { rcode: Rcode.NXDOMAIN, authoritative: true, answer: [], authority: [negativeSoa(zone)], additional: [] };

  let answer: RRset[] = [];
  if (qtype === RRType.ANY) answer = [...node.values()];
  else {
    const set = node.get(qtype) ?? (qtype !== RRType.CNAME ? node.get(RRType.CNAME) : undefined);
    if (set) answer = [set];
  }
  const additional: RRset[] = [];
  const ihle = node.get(data.ihleType);
  if (ihle && !answer.includes(ihle)) additional.push(ihle);
  return {
    rcode: Rcode.NOERROR,
    authoritative: true,
    answer,
    authority: answer.length === 0 ? [negativeSoa(zone)] : [],
    additional,
  };
}
