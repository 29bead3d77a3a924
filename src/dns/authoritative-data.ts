import { EmblemError } from '../core/errors.js';
import { isAtOrBelow, nameLabels, nameToWire, toFqdn, type NameKey } from './domain-name.js';
import { DnsLimits } from './limits.js';
import { CLASS_ANY, CLASS_IN, DEFAULT_IHLE_TYPE, RRType, typeName } from './rr-type.js';
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
    for (const [owner, node] of nodes) assertAnswersFit(owner, node, soa, ihleType);
    zones.push({ origin: file.origin, soa, nodes });
  }
  // Most specific zone first, so a child zone served alongside its parent wins.
  zones.sort((a, b) => nameLabels(b.origin).length - nameLabels(a.origin).length);
  return { zones, ihleType };
}

/** Bytes one RRset adds to a response for a question at its owner: the owner compresses to a 2-byte pointer. */
function rrsetWireBytes(set: RRset | undefined): number {
  let n = 0;
  for (const rdata of set?.rdatas ?? []) n += 2 + 10 + rdata.length;
  return n;
}

/**
 * Refuses a name whose answer could never be sent, even over TCP: a record longer than RDLENGTH allows, or an
 * RRset (with the IHLE RRset DNS-02 adds to every answer, the question and an OPT) over the 65,535 bytes of a
 * DNS message. Served, such a name would only ever get TC with no records, and a checker would see no emblem.
 */
function assertAnswersFit(owner: NameKey, node: Map<number, RRset>, soa: RRset, ihleType: number): void {
  const tooLarge = (what: string, bytes: number) =>
    new EmblemError(
      'DNS_ANSWER_TOO_LARGE',
      `answer too large: ${what} at ${toFqdn(owner)} needs ${bytes} bytes, more than a DNS message holds ` +
        `(${DnsLimits.maxMessageBytes}, even over TCP); publish fewer or smaller records at this name`,
    );
  // Header, question (name + type + class), OPT.
  const fixed = 12 + nameToWire(owner).length + 4 + 11;
  const ihle = rrsetWireBytes(node.get(ihleType));
  for (const set of node.values()) {
    for (const rdata of set.rdatas) {
      if (rdata.length > 0xffff) throw tooLarge(`a ${typeName(set.type, ihleType)} record of ${rdata.length} bytes`, fixed + 12 + rdata.length);
    }
    const bytes = fixed + rrsetWireBytes(set) + (set.type === ihleType ? 0 : ihle);
    if (bytes > DnsLimits.maxMessageBytes) throw tooLarge(`the ${typeName(set.type, ihleType)} RRset (${set.rdatas.length} records${set.type === ihleType || ihle === 0 ? '' : ' plus the IHLE RRset'})`, bytes);
  }
  // NODATA for any other type: the SOA in Authority plus the IHLE RRset in Additional.
  const nodata = fixed + rrsetWireBytes(soa) + ihle;
  if (nodata > DnsLimits.maxMessageBytes) throw tooLarge('the IHLE RRset', nodata);
}

/**
 * How ANY is answered: "minimal" (RFC 8482, the default) gives one RRset, so ANY is no amplifier; "full" every
 * RRset at the name (the old behaviour, for operators who want it).
 */
export type AnyMode = 'minimal' | 'full';

/** RFC 8482 §4.2: the synthesized HINFO of a minimal ANY answer. */
const HINFO = 13;
const RFC8482_HINFO = Buffer.from([7, ...Buffer.from('RFC8482'), 0]);

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
export function planAnswer(data: AuthoritativeData, qname: NameKey, qtype: number, qclass: number, anyMode: AnyMode = 'minimal'): AnswerPlan {
  const refused: AnswerPlan = { rcode: Rcode.REFUSED, authoritative: false, answer: [], authority: [], additional: [] };
  if (qclass !== CLASS_IN && qclass !== CLASS_ANY) return refused;
  if (qtype === RRType.AXFR || qtype === RRType.IXFR) return refused;
  if (qtype === RRType.OPT) return { ...refused, rcode: Rcode.FORMERR };
  const zone = data.zones.find((z) => isAtOrBelow(qname, z.origin));
  if (!zone) return refused;
  const node = zone.nodes.get(qname);
  if (!node) return { rcode: Rcode.NXDOMAIN, authoritative: true, answer: [], authority: [negativeSoa(zone)], additional: [] };

  let answer: RRset[] = [];
  if (qtype === RRType.ANY) {
    if (anyMode === 'full') answer = [...node.values()];
    else if (node.size > 0) {
      // RFC 8482 §4.1: one RRset. The IHLE RRset when there is one (DNS-02 wants it in every answer at this name,
      // and in Answer it is not repeated in Additional); otherwise a synthesized HINFO (§4.2) with the smallest
      // TTL at the name, so no cache keeps it longer than the real records.
      const ihleSet = node.get(data.ihleType);
      const ttl = Math.min(...[...node.values()].map((s) => s.ttl));
      answer = [ihleSet ?? { owner: qname, type: HINFO, ttl, rdatas: [RFC8482_HINFO] }];
    }
  } else {
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
