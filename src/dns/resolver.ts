import { readFile } from 'node:fs/promises';
import { connect, isIP, isIPv6 } from 'node:net';
import { randomInt } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { EmblemError } from '../core/errors.js';
import { asciiLower, labelKeyFromBytes, nameToWire, type NameKey } from './domain-name.js';
import { DnsLimits } from './limits.js';
import { decodeCommonResponse } from './lean-response-decoder.js';
import { assertMessageFraming } from './message-framing.js';
import { OPT_RECORD_BYTES } from './response-message.js';
import { CLASS_IN, RRType, parseTypeName } from './rr-type.js';
import { BatchedUdpClientPool, UdpQueryTimeout } from './batched-udp-client.js';
import { batchedUdp } from './batched-udp-socket.js';
import { UdpSocketPool, type UdpExchanger } from './udp-socket-pool.js';

/** Where queries go. The asset itself is never contacted: only this resolver (or DoH server) sees a query. */
export type ResolverSpec =
  | { kind: 'udp'; host: string; port: number }
  | { kind: 'doh'; url: string }
  | { kind: 'system' };

export interface QueryOptions {
  timeoutMs?: number;
  attempts?: number;
  /** Where /etc/resolv.conf lives (tests point it elsewhere). */
  resolvConf?: string;
}

/** One answered question, with how it travelled. */
export interface DnsExchange {
  message: dnsPacket.Packet;
  transport: 'udp' | 'tcp' | 'doh';
  /** The UDP answer had TC set and the question was asked again over TCP. */
  truncated: boolean;
  server: string;
  /** The response message exactly as received (the observatory keeps it as evidence). */
  wire?: Buffer;
}

export function parseResolverSpec(text: string | undefined, doh: string | undefined): ResolverSpec {
  if (doh !== undefined) {
    let url: URL;
    try {
      url = new URL(doh);
    } catch {
      throw new EmblemError('USAGE', `--doh ${JSON.stringify(doh)} is not a URL`);
    }
    const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
    // Plain HTTP would show every query to the network path, which is what DoH is chosen to avoid.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      throw new EmblemError('USAGE', '--doh needs an https:// URL (http:// only for a loopback test server)');
    }
    return { kind: 'doh', url: url.toString() };
  }
  if (text === undefined || text === 'system') return { kind: 'system' };
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(text);
  const host = m ? m[1]! : isIPv6(text) ? text : '';
  const port = m?.[2] !== undefined ? Number(m[2]) : 53;
  if (!isIP(host) || port < 1 || port > 65535) {
    throw new EmblemError('USAGE', `--resolver ${JSON.stringify(text)}: expected IP[:PORT], [IPv6]:PORT or "system"`);
  }
  return { kind: 'udp', host, port };
}

export function describeResolver(spec: ResolverSpec): string {
  if (spec.kind === 'doh') return spec.url;
  if (spec.kind === 'system') return 'system';
  return isIPv6(spec.host) ? `[${spec.host}]:${spec.port}` : `${spec.host}:${spec.port}`;
}

/** Nameservers from resolv.conf (at most 3, like glibc), as the system resolver would use them. */
export async function systemNameservers(path = '/etc/resolv.conf'): Promise<Array<{ host: string; port: number }>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new EmblemError('DNS_RESOLVER_UNAVAILABLE', `cannot read ${path}; pass --resolver IP or --doh URL`);
  }
  const servers: Array<{ host: string; port: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const host = m[1]!.replace(/%.*$/, '');
    if (isIP(host)) servers.push({ host, port: 53 });
    if (servers.length >= DnsLimits.maxSystemNameservers) break;
  }
  if (servers.length === 0) throw new EmblemError('DNS_RESOLVER_UNAVAILABLE', `no nameserver in ${path}`);
  return servers;
}

/** A query message: RD (a resolver should recurse), AD (RFC 6840 §5.7: ask for the AD bit), EDNS(0) 1232. */
export function buildQuery(name: NameKey, qtype: number, id: number): Buffer {
  // A key without escapes is its labels' bytes joined by dots (the usual case: written without building the
  // wire name first); one with escapes goes through nameToWire.
  const plain = !name.includes('\\');
  const qname = plain ? null : nameToWire(name);
  const qnameLength = qname ? qname.length : name === '' ? 1 : name.length + 2;
  const out = Buffer.allocUnsafe(12 + qnameLength + 4 + OPT_RECORD_BYTES);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(0x0100 | 0x0020, 2);
  out.writeUInt32BE(0x00010000, 4); // QDCOUNT 1, ANCOUNT 0
  out.writeUInt32BE(0x00000001, 8); // NSCOUNT 0, ARCOUNT 1
  if (qname) qname.copy(out, 12);
  else if (name === '') out[12] = 0;
  else {
    let lengthAt = 12;
    let o = 13;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c === 0x2e) {
        out[lengthAt] = o - lengthAt - 1;
        lengthAt = o++;
      } else out[o++] = c;
    }
    out[lengthAt] = o - lengthAt - 1;
    out[o] = 0;
  }
  let o = 12 + qnameLength;
  out.writeUInt16BE(qtype, o);
  out.writeUInt16BE(CLASS_IN, o + 2);
  o += 4;
  out[o] = 0;
  out.writeUInt16BE(RRType.OPT, o + 1);
  out.writeUInt16BE(DnsLimits.defaultUdpPayload, o + 3);
  out.writeUInt32BE(0, o + 5); // extended RCODE, version, flags
  out.writeUInt16BE(0, o + 9); // no options
  return out;
}

function timeoutError(server: string, transport: string, ms: number): EmblemError {
  return new EmblemError('DNS_TIMEOUT', `no answer from ${server} over ${transport} within ${ms} ms`);
}

/**
 * EMBLEM_NO_LEAN_DNS_DECODE=1 decodes every response with dns-packet (the lean decoder gives the same objects;
 * this is its switch for comparing). Read once per process.
 */
export const leanDecodeEnabled = process.env.EMBLEM_NO_LEAN_DNS_DECODE !== '1';

/**
 * Decodes a response and checks it answers our question (ID, QR, question); anything else is an error.
 * `expectedName` is the name the query asks (read back from the query when not given).
 */
export function decodeResponse(bytes: Uint8Array, query: Buffer, server: string, checkId = true, expectedName?: NameKey): dnsPacket.Packet {
  let message: dnsPacket.Packet;
  try {
    // dns-packet clamps RDATA at the end of the buffer (a cut TXT string would decode as a shorter one): the
    // framing is checked on the raw bytes first.
    assertMessageFraming(bytes);
    // dns-packet only follows backward compression pointers, so a pointer loop throws instead of spinning.
    // A Buffer is decoded in place (nothing writes to a received message); other byte arrays are viewed as one.
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // The common shapes (NXDOMAIN/NODATA with an SOA, TXT, CNAME) without dns-packet's generic decoder; the same
    // object either way, and anything unusual still goes through dns-packet.
    message = (leanDecodeEnabled ? decodeCommonResponse(buf) : null) ?? dnsPacket.decode(buf);
  } catch (err) {
    throw new EmblemError('DNS_RESPONSE_MALFORMED', `malformed response from ${server}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const counts = (message.answers?.length ?? 0) + (message.authorities?.length ?? 0) + (message.additionals?.length ?? 0);
  if (counts > DnsLimits.maxResponseRecords) throw new EmblemError('LIMIT_EXCEEDED', `response from ${server} has ${counts} records`);
  if (checkId && message.id !== query.readUInt16BE(0)) throw new EmblemError('DNS_RESPONSE_MALFORMED', `response ID mismatch from ${server}`);
  if (message.type !== 'response') throw notOurQuestion(server);
  // Usually the answer repeats our question byte for byte (letters perhaps in another case): then it is ours.
  if (echoesQuestion(bytes, query)) return message;
  const q = message.questions?.[0];
  const qtype = query.readUInt16BE(query.length - OPT_RECORD_BYTES - 4);
  const expected = expectedName ?? nameKeyOf(query);
  if (!q || asciiLower(q.name.replace(/\.$/, '')) !== expected || typeCode(q.type) !== qtype) throw notOurQuestion(server);
  return message;
}

function notOurQuestion(server: string): EmblemError {
  return new EmblemError('DNS_RESPONSE_MALFORMED', `response from ${server} does not answer the question asked`);
}

/**
 * True when the response's first question is the query's question section (name, type, class) byte for byte,
 * ASCII letters compared without case (RFC 4343; resolvers may randomise case, RFC draft 0x20). Both messages were
 * framed already, so the bytes compared lie inside each.
 */
function echoesQuestion(response: Uint8Array, query: Buffer): boolean {
  const end = query.length - OPT_RECORD_BYTES;
  if (response.length < end || response[4] !== 0 || response[5] === 0) return false;
  // Labels: length octets and the type and class must match exactly; only label bytes are compared without case.
  let i = 12;
  while (query[i] !== 0) {
    const labelEnd = i + 1 + query[i]!;
    if (response[i] !== query[i]) return false;
    for (let j = i + 1; j < labelEnd; j++) {
      let a = response[j]!;
      let b = query[j]!;
      if (a === b) continue;
      if (a >= 0x41 && a <= 0x5a) a += 32;
      if (b >= 0x41 && b <= 0x5a) b += 32;
      if (a !== b) return false;
    }
    i = labelEnd;
  }
  for (; i < end; i++) if (response[i] !== query[i]) return false;
  return true;
}

function nameKeyOf(query: Buffer): NameKey {
  const labels: string[] = [];
  let o = 12;
  while (query[o]! !== 0) {
    labels.push(labelKeyFromBytes(query, o + 1, o + 1 + query[o]!));
    o += 1 + query[o]!;
  }
  return labels.join('.');
}

/** dns-packet names unknown types "UNKNOWN_<n>"; map both spellings back to the code. */
export function typeCode(type: string | number): number {
  if (typeof type === 'number') return type;
  const m = /^UNKNOWN_(\d+)$/.exec(type);
  if (m) return Number(m[1]);
  return parseTypeName(type) ?? -1;
}

let pool: UdpExchanger | null = null;

/**
 * The UDP transport of every resolver query in this process: batched through the native module (sendmmsg and
 * recvmmsg, a few system calls per batch of queries) when it is built, else node:dgram (two per query). Both give
 * the same answers; EMBLEM_NO_BATCHED_RESOLVER=1 (or EMBLEM_NATIVE_UDP=0, which turns the whole module off) forces
 * node:dgram.
 */
export function udpTransport(): UdpExchanger {
  if (pool) return pool;
  const native = process.env.EMBLEM_NO_BATCHED_RESOLVER === '1' ? null : batchedUdp();
  pool = native ? new BatchedUdpClientPool(native) : new UdpSocketPool();
  return pool;
}

/** Which transport udpTransport() picked: 'batched' or 'dgram' (reported by the bench and tests). */
export function udpTransportKind(): 'batched' | 'dgram' {
  return udpTransport() instanceof BatchedUdpClientPool ? 'batched' : 'dgram';
}

/** The errors of a UDP exchange as the resolver reports them (DNS_TIMEOUT is retried, the rest are not). */
function udpError(err: unknown, server: string, timeoutMs: number): unknown {
  if (err instanceof EmblemError) return err;
  if (err instanceof UdpQueryTimeout) return timeoutError(server, 'UDP', timeoutMs);
  return new EmblemError('DNS_RESOLVER_UNAVAILABLE', `UDP to ${server}: ${(err as Error).message}`);
}

/** One UDP question and its answer's bytes; rejects with whatever udpError() turns into the resolver's error. */
function udpExchange(host: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer> {
  const transport = udpTransport();
  // The batched pool keeps the deadline itself (one timer for all queries) and forgets a query once it settles.
  if (transport instanceof BatchedUdpClientPool) return transport.ask(host, port, query, timeoutMs);
  return dgramExchange(transport, host, port, query, timeoutMs);
}

async function dgramExchange(transport: UdpExchanger, host: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer> {
  const sent = transport.send(host, port, query);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      sent.answer,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new UdpQueryTimeout()), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    sent.cancel();
  }
}

/** describeResolver for a UDP server, remembered: it is asked for every query. */
const serverNames = new Map<string, string>();
function udpServerName(host: string, port: number): string {
  const key = `${host}|${port}`;
  let name = serverNames.get(key);
  if (name === undefined) {
    // A handful of servers per process (one --resolver, at most three from resolv.conf); bounded all the same.
    if (serverNames.size >= 64) serverNames.clear();
    name = describeResolver({ kind: 'udp', host, port });
    serverNames.set(key, name);
  }
  return name;
}

/**
 * `name` itself when it is the key the question reads back as (lower case, printable, nothing escaped), so
 * decodeResponse need not read the name back out of the query; undefined otherwise (it then does).
 */
function canonicalKey(name: NameKey): NameKey | undefined {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // An empty label (leading, trailing or doubled dot) would end the name on the wire early.
    if (c === 0x2e && (i === 0 || i === name.length - 1 || name.charCodeAt(i - 1) === 0x2e)) return undefined;
    if (c <= 0x20 || c >= 0x7f || (c >= 0x41 && c <= 0x5a) || c === 0x5c || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b) return undefined;
  }
  return name;
}

async function tcpExchange(host: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer> {
  const server = describeResolver({ kind: 'udp', host, port });
  return new Promise<Buffer>((resolve, reject) => {
    const sock = connect({ host, port });
    let pending: Buffer = Buffer.alloc(0);
    const done = (err: Error | null, value?: Buffer) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => done(timeoutError(server, 'TCP', timeoutMs)), timeoutMs);
    sock.on('error', (err) => done(new EmblemError('DNS_RESOLVER_UNAVAILABLE', `TCP to ${server}: ${err.message}`)));
    sock.on('connect', () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(query.length);
      sock.write(Buffer.concat([prefix, query]));
    });
    sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length >= 2 + len) done(null, pending.subarray(2, 2 + len));
      }
    });
    sock.on('end', () => done(new EmblemError('DNS_RESPONSE_MALFORMED', `TCP connection to ${server} closed before a full answer`)));
  });
}

async function dohExchange(url: string, query: Buffer, timeoutMs: number): Promise<Buffer> {
  // RFC 8484 §4.1: ID 0 makes the request cacheable by HTTP caches.
  const body = Buffer.from(query);
  body.writeUInt16BE(0, 0);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw timeoutError(url, 'DoH', timeoutMs);
    throw new EmblemError('DNS_RESOLVER_UNAVAILABLE', `DoH ${url}: ${e.message}`);
  }
  if (res.status !== 200) throw new EmblemError('DNS_RESOLVER_UNAVAILABLE', `DoH ${url}: HTTP ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/dns-message')) throw new EmblemError('DNS_RESPONSE_MALFORMED', `DoH ${url}: content-type ${type}`);
  // Read at most one DNS message worth of bytes, whatever the server claims.
  const reader = res.body?.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > DnsLimits.maxMessageBytes) {
      await reader.cancel();
      throw new EmblemError('LIMIT_EXCEEDED', `DoH ${url}: response larger than a DNS message`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * Asks one question through the chosen resolver: UDP first, the same question over TCP when the UDP answer is
 * truncated (RFC 7766), or one DoH POST. Retries on timeout; the system resolver tries each nameserver in turn.
 */
export async function exchange(spec: ResolverSpec, name: NameKey, qtype: number, options: QueryOptions = {}): Promise<DnsExchange> {
  const timeoutMs = options.timeoutMs ?? DnsLimits.defaultQueryTimeoutMs;
  const attempts = options.attempts ?? DnsLimits.defaultQueryAttempts;
  const query = buildQuery(name, qtype, randomInt(0, 65536));
  if (spec.kind === 'doh') {
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        const bytes = await dohExchange(spec.url, query, timeoutMs);
        return { message: decodeResponse(bytes, query, spec.url, false), transport: 'doh', truncated: false, server: spec.url, wire: bytes };
      } catch (err) {
        lastError = err;
        if (!(err instanceof EmblemError) || err.code !== 'DNS_TIMEOUT') break;
      }
    }
    throw lastError;
  }
  const servers = spec.kind === 'system' ? await systemNameservers(options.resolvConf) : [{ host: spec.host, port: spec.port }];
  const expected = canonicalKey(name);
  let lastError: unknown;
  for (const { host, port } of servers) {
    const server = udpServerName(host, port);
    for (let i = 0; i < attempts; i++) {
      try {
        let udpWire: Buffer;
        try {
          udpWire = await udpExchange(host, port, query, timeoutMs);
        } catch (err) {
          throw udpError(err, server, timeoutMs);
        }
        const udp = decodeResponse(udpWire, query, server, true, expected);
        if (((udp.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) === 0) return { message: udp, transport: 'udp', truncated: false, server, wire: udpWire };
        const tcpWire = await tcpExchange(host, port, query, timeoutMs);
        const tcp = decodeResponse(tcpWire, query, server, true, expected);
        return { message: tcp, transport: 'tcp', truncated: true, server, wire: tcpWire };
      } catch (err) {
        lastError = err;
        if (!(err instanceof EmblemError) || err.code !== 'DNS_TIMEOUT') break;
      }
    }
  }
  throw lastError;
}
