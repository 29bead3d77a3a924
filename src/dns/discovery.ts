import * as dnsPacket from 'dns-packet';
import { EmblemError } from '../core/errors.js';
import { asciiLower, toFqdn, type NameKey } from './domain-name.js';
import { describeResolver, exchange, typeCode, type DnsExchange, type QueryOptions, type ResolverSpec } from './resolver.js';
import { RRType, typeName } from './rr-type.js';
import type { DiscoveryEra, DiscoveryQuery, DiscoveryReport } from './discovery-report.js';

export type { DiscoveryEra, DiscoveryQuery, DiscoveryReport } from './discovery-report.js';

export interface DiscoveredRecords {
  report: DiscoveryReport;
  txtValues: Buffer[];
  ihleRdatas: Buffer[];
}

export interface DiscoveryOptions extends QueryOptions {
  resolver: ResolverSpec;
  era: DiscoveryEra;
  ihleType: number;
  /** QTYPE used to find IHLE records (DNS-02: any type works against a DNS-02 server; default: IHLE itself). */
  ihleQueryType?: number;
  /** Called with each response exactly as received (the observatory keeps the raw answers as evidence). */
  onAnswer?: (answer: { qname: string; qtype: string; wire: Buffer }) => void;
}

/** dns-packet's decoded record, as far as discovery reads it (its published types omit class and rcode). */
type Answer = { type: string; name: string; class?: string; data?: unknown };

/** Owner names that lead from `name` through CNAMEs in the answer (bounded: 8 links). */
function aliasChain(message: dnsPacket.Packet, name: NameKey): Set<NameKey> {
  const names = new Set<NameKey>([name]);
  for (let i = 0; i < 8; i++) {
    let grew = false;
    for (const a of (message.answers ?? []) as unknown as Answer[]) {
      if (a.type === 'CNAME' && names.has(asciiLower(a.name.replace(/\.$/, ''))) && typeof a.data === 'string') {
        const target = asciiLower(a.data.replace(/\.$/, ''));
        if (!names.has(target)) {
          names.add(target);
          grew = true;
        }
      }
    }
    if (!grew) break;
  }
  return names;
}

function records(section: dnsPacket.Answer[] | undefined, owners: Set<NameKey>, type: number): Answer[] {
  return ((section ?? []) as unknown as Answer[]).filter(
    (a) => typeCode(a.type) === type && (a.class === 'IN' || a.class === undefined) && owners.has(asciiLower(a.name.replace(/\.$/, ''))),
  );
}

function rdataBytes(a: Answer): Buffer | null {
  return Buffer.isBuffer(a.data) ? a.data : null;
}

/** What an exchange adds to the discovery log. */
function logQuery(x: DnsExchange, qtype: number, ihleType: number): DiscoveryQuery {
  const flags = x.message.flags ?? 0;
  return {
    qtype: typeName(qtype, ihleType),
    transport: x.transport,
    truncated: x.truncated,
    rcode: (x.message as { rcode?: string }).rcode ?? 'NOERROR',
    answers: x.message.answers?.length ?? 0,
    additionals: x.message.additionals?.length ?? 0,
    ad: (flags & dnsPacket.AUTHENTIC_DATA) !== 0,
  };
}

/**
 * Looks up the emblem records of `name` through the resolver only (never the asset): TXT for the JWS era;
 * for the CWT era IHLE from the Answer and Additional sections (DNS-02). With era "any", TXT is asked first;
 * a DNS-02 server already adds the IHLE RRset to that answer, otherwise a direct IHLE query follows.
 * Throws DNS_* errors for resolver failures; NXDOMAIN is a result, not an error.
 */
export async function discoverEmblemRecords(name: NameKey, options: DiscoveryOptions): Promise<DiscoveredRecords> {
  const report: DiscoveryReport = {
    resolver: describeResolver(options.resolver),
    transport: options.resolver.kind === 'doh' ? 'doh' : 'udp',
    truncated: false,
    ad: true,
    rcode: 'NOERROR',
    records: { txt: 0, ademTxt: 0, ihle: 0, ihleFromAdditional: 0 },
    queries: [],
  };
  const txtValues: Buffer[] = [];
  const ihle = new Map<string, Buffer>();
  const ask = async (qtype: number): Promise<dnsPacket.Packet> => {
    const x = await exchange(options.resolver, name, qtype, options);
    if (options.resolver.kind === 'system') report.resolver = `system (${x.server})`;
    const q = logQuery(x, qtype, options.ihleType);
    if (options.onAnswer && x.wire) options.onAnswer({ qname: toFqdn(name), qtype: q.qtype, wire: x.wire });
    report.queries.push(q);
    report.ad &&= q.ad;
    if (x.truncated) report.truncated = true;
    if (x.transport === 'tcp') report.transport = 'tcp';
    if (x.transport !== 'udp' && ((x.message.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0) {
      // TC even over TCP/DoH: the answer does not fit in a DNS message, so the records were never seen. That is a
      // failed lookup, never "no emblem".
      throw new EmblemError('DNS_ANSWER_TOO_LARGE', `answer too large: ${report.resolver} sets TC even over ${x.transport} for ${toFqdn(name)} ${q.qtype} (${q.answers} records received)`);
    }
    if (q.rcode !== 'NOERROR' && q.rcode !== 'NXDOMAIN') {
      throw new EmblemError('DNS_RESOLVER_FAILED', `${report.resolver} answered ${q.rcode} for ${toFqdn(name)} ${q.qtype}`);
    }
    if (q.rcode === 'NXDOMAIN') report.rcode = 'NXDOMAIN';
    const owners = aliasChain(x.message, name);
    // --era jws ignores IHLE records even when a DNS-02 server adds them to the TXT answer.
    if (options.era === 'jws') return x.message;
    for (const a of records(x.message.answers, owners, options.ihleType)) {
      const b = rdataBytes(a);
      if (b) ihle.set(b.toString('hex'), b);
    }
    for (const a of records(x.message.additionals, owners, options.ihleType)) {
      const b = rdataBytes(a);
      if (b && !ihle.has(b.toString('hex'))) {
        ihle.set(b.toString('hex'), b);
        report.records.ihleFromAdditional++;
      }
    }
    return x.message;
  };

  if (options.era !== 'cwt') {
    const message = await ask(RRType.TXT);
    const owners = aliasChain(message, name);
    for (const a of records(message.answers, owners, RRType.TXT)) {
      const strings = Array.isArray(a.data) ? (a.data as unknown[]) : [];
      txtValues.push(Buffer.concat(strings.map((s) => (Buffer.isBuffer(s) ? s : Buffer.from(String(s))))));
    }
  }
  if (report.rcode !== 'NXDOMAIN' && (options.era === 'cwt' || (options.era === 'any' && ihle.size === 0))) {
    await ask(options.era === 'cwt' ? (options.ihleQueryType ?? options.ihleType) : options.ihleType);
  }
  report.records.txt = txtValues.length;
  report.records.ihle = ihle.size;
  if (report.queries.length === 0) report.ad = false;
  return { report, txtValues, ihleRdatas: [...ihle.values()] };
}

/**
 * A and AAAA of `name` through the same resolver, for emblems whose assets are addresses (JWS-era deployments
 * mark "[2a01:...]" and publish the TXT records at a name with that AAAA). Appends to `report.queries`.
 */
export async function lookupAddresses(name: NameKey, options: DiscoveryOptions, report: DiscoveryReport): Promise<string[]> {
  const addresses: string[] = [];
  for (const qtype of [RRType.A, RRType.AAAA]) {
    const x = await exchange(options.resolver, name, qtype, options);
    const q = logQuery(x, qtype, options.ihleType);
    report.queries.push(q);
    if (q.rcode !== 'NOERROR' && q.rcode !== 'NXDOMAIN') continue;
    for (const a of records(x.message.answers, aliasChain(x.message, name), qtype)) if (typeof a.data === 'string') addresses.push(a.data);
  }
  return addresses;
}
