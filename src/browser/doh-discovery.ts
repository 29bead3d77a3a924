import { base64urlEncode } from '../core/encoding.js';
import { EmblemError } from '../core/errors.js';
import type { DiscoveryEra, DiscoveryQuery, DiscoveryReport } from '../dns/discovery-report.js';
import { DnsLimits } from '../dns/limits.js';
import type { NameKey } from '../dns/domain-name-text.js';
import { RRType, typeName } from '../dns/rr-type.js';
import { DNS_FLAG_AD, DNS_FLAG_TC, decodeDnsMessage, encodeDnsQuery, rcodeName, txtValue, type WireMessage, type WireRecord } from './dns-wire.js';

/** The fetch this module uses (the browser's, or a test's); only GET with headers is needed. */
export type DohFetch = (url: string, init: { headers: Record<string, string>; signal: AbortSignal; redirect: 'error'; credentials: 'omit'; cache: RequestCache }) => Promise<Response>;

export interface DohDiscoveryOptions {
  /** The RFC 8484 endpoint (https://…/dns-query; http:// only for loopback test servers). */
  url: string;
  era: DiscoveryEra;
  ihleType: number;
  timeoutMs: number;
  fetch: DohFetch;
}

/**
 * One DoH GET (RFC 8484 §4.1: `?dns=` base64url without padding, ID 0). GET rather than the CLI's POST: it is
 * a CORS-safelisted request, so a resolver that allows cross-origin reads needs no preflight, and HTTP caches can
 * share answers: the browser's HTTP cache keeps an answer for the max-age the resolver gives (its smallest TTL), so
 * moving between pages of one site asks again only when the records may have changed. No cookies are sent
 * (credentials: omit): the resolver learns the name and nothing else.
 */
export async function dohQuery(name: NameKey, qtype: number, options: Pick<DohDiscoveryOptions, 'url' | 'timeoutMs' | 'fetch'>): Promise<WireMessage> {
  const url = new URL(options.url);
  url.searchParams.set('dns', base64urlEncode(encodeDnsQuery(name, qtype)));
  let res: Response;
  try {
    res = await options.fetch(url.toString(), {
      headers: { accept: 'application/dns-message' },
      signal: AbortSignal.timeout(options.timeoutMs),
      redirect: 'error',
      credentials: 'omit',
      cache: 'default',
    });
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new EmblemError('DNS_TIMEOUT', `no answer from DoH ${options.url} within ${options.timeoutMs} ms`);
    throw new EmblemError('DNS_RESOLVER_UNAVAILABLE', `DoH ${options.url}: ${e.message}`);
  }
  if (res.status !== 200) throw new EmblemError('DNS_RESOLVER_UNAVAILABLE', `DoH ${options.url}: HTTP ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/dns-message')) throw new EmblemError('DNS_RESPONSE_MALFORMED', `DoH ${options.url}: content-type ${type}`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    // Read at most one DNS message worth of bytes, whatever the server claims.
    if (total > DnsLimits.maxMessageBytes) {
      await reader.cancel();
      throw new EmblemError('LIMIT_EXCEEDED', `DoH ${options.url}: response larger than a DNS message`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  try {
    return decodeDnsMessage(bytes);
  } catch (err) {
    throw new EmblemError('DNS_RESPONSE_MALFORMED', `DoH ${options.url}: ${(err as Error).message}`);
  }
}

/** Owner names that lead from `name` through CNAMEs in the answer (bounded: 8 links), as src/dns/discovery.ts. */
function aliasChain(message: WireMessage, name: NameKey): Set<NameKey> {
  const names = new Set<NameKey>([name]);
  for (let i = 0; i < 8; i++) {
    let grew = false;
    for (const a of message.answers) {
      if (a.type === RRType.CNAME && a.target !== undefined && names.has(a.name) && !names.has(a.target)) {
        names.add(a.target);
        grew = true;
      }
    }
    if (!grew) break;
  }
  return names;
}

function records(section: WireRecord[], owners: Set<NameKey>, type: number): WireRecord[] {
  return section.filter((r) => r.type === type && r.class === 1 && owners.has(r.name));
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * discoverEmblemRecords (src/dns/discovery.ts) over DoH in a browser, with the same questions and the same rules:
 * TXT for the JWS era, IHLE from the Answer and Additional sections for the CWT era, "any" asks TXT first and IHLE
 * only when the TXT answer did not carry it. Throws DNS_* errors for resolver failures; NXDOMAIN is a result.
 */
export async function discoverViaDoh(
  name: NameKey,
  options: DohDiscoveryOptions,
): Promise<{ report: DiscoveryReport; txtValues: Uint8Array[]; ihleRdatas: Uint8Array[] }> {
  const report: DiscoveryReport = {
    resolver: options.url,
    transport: 'doh',
    truncated: false,
    ad: true,
    rcode: 'NOERROR',
    records: { txt: 0, ademTxt: 0, ihle: 0, ihleFromAdditional: 0 },
    queries: [],
  };
  const txtValues: Uint8Array[] = [];
  const ihle = new Map<string, Uint8Array>();
  const ask = async (qtype: number): Promise<WireMessage> => {
    const message = await dohQuery(name, qtype, options);
    const q: DiscoveryQuery = {
      qtype: typeName(qtype, options.ihleType),
      transport: 'doh',
      truncated: false,
      rcode: rcodeName(message.rcode),
      answers: message.answers.length,
      additionals: message.additionals.length,
      ad: (message.flags & DNS_FLAG_AD) !== 0,
    };
    report.queries.push(q);
    report.ad &&= q.ad;
    if ((message.flags & DNS_FLAG_TC) !== 0) {
      throw new EmblemError('DNS_ANSWER_TOO_LARGE', `answer too large: ${options.url} sets TC over DoH for ${name}. ${q.qtype}`);
    }
    if (q.rcode !== 'NOERROR' && q.rcode !== 'NXDOMAIN') throw new EmblemError('DNS_RESOLVER_FAILED', `${options.url} answered ${q.rcode} for ${name}. ${q.qtype}`);
    if (q.rcode === 'NXDOMAIN') report.rcode = 'NXDOMAIN';
    if (options.era === 'jws') return message;
    const owners = aliasChain(message, name);
    for (const r of records(message.answers, owners, options.ihleType)) ihle.set(hex(r.rdata), r.rdata);
    for (const r of records(message.additionals, owners, options.ihleType)) {
      if (!ihle.has(hex(r.rdata))) {
        ihle.set(hex(r.rdata), r.rdata);
        report.records.ihleFromAdditional++;
      }
    }
    return message;
  };
  if (options.era !== 'cwt') {
    const message = await ask(RRType.TXT);
    for (const r of records(message.answers, aliasChain(message, name), RRType.TXT)) txtValues.push(txtValue(r.rdata));
  }
  if (report.rcode !== 'NXDOMAIN' && (options.era === 'cwt' || (options.era === 'any' && ihle.size === 0))) await ask(options.ihleType);
  report.records.txt = txtValues.length;
  report.records.ihle = ihle.size;
  return { report, txtValues, ihleRdatas: [...ihle.values()] };
}

/** A and AAAA of `name` over the same DoH resolver, for JWS-era address assets (as lookupAddresses). */
export async function lookupAddressesViaDoh(name: NameKey, options: DohDiscoveryOptions, report: DiscoveryReport): Promise<string[]> {
  const out: string[] = [];
  for (const qtype of [RRType.A, RRType.AAAA]) {
    const message = await dohQuery(name, qtype, options);
    report.queries.push({
      qtype: typeName(qtype, options.ihleType), transport: 'doh', truncated: false, rcode: rcodeName(message.rcode),
      answers: message.answers.length, additionals: message.additionals.length, ad: (message.flags & DNS_FLAG_AD) !== 0,
    });
    if (message.rcode !== 0) continue;
    for (const r of records(message.answers, aliasChain(message, name), qtype)) {
      if (qtype === RRType.A && r.rdata.length === 4) out.push(Array.from(r.rdata).join('.'));
      if (qtype === RRType.AAAA && r.rdata.length === 16) {
        const groups: string[] = [];
        for (let i = 0; i < 16; i += 2) groups.push(((r.rdata[i]! << 8) | r.rdata[i + 1]!).toString(16));
        out.push(groups.join(':'));
      }
    }
  }
  return out;
}
