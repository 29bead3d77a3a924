import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIPv6 } from 'node:net';
import type { AuthoritativeResponder } from '../dns/authoritative-responder.js';
import type { ListenAddress } from '../dns/authoritative-server.js';
import { EmblemError } from '../core/errors.js';
import { DohLimits, ServerLimits } from './limits.js';

/** The media type of RFC 8484. */
export const DNS_MESSAGE = 'application/dns-message';
export const DOH_PATH = '/dns-query';

export interface DohStats {
  requests: number;
  get: number;
  post: number;
  answered: number;
  /** Malformed HTTP requests or DNS messages (400), wrong media type (415), wrong method (405), too large (413). */
  rejected: number;
}

type StatusLine = { status: number; message: string };

const RR_OPT = 41;
const RR_SOA = 6;

/** Skips a (possibly compressed) name; returns the offset after it, or -1 if the message is cut. */
function skipName(msg: Uint8Array, offset: number): number {
  let i = offset;
  for (let guard = 0; guard < 128; guard++) {
    if (i >= msg.length) return -1;
    const len = msg[i]!;
    if (len === 0) return i + 1;
    if ((len & 0xc0) === 0xc0) return i + 2 <= msg.length ? i + 2 : -1;
    i += 1 + len;
  }
  return -1;
}

/**
 * Cache lifetime of a DNS response (RFC 8484 section 5.1): the smallest TTL of its records (OPT excluded); for a
 * negative answer the SOA's TTL capped by its MINIMUM (RFC 2308); no records: DohLimits.defaultMaxAgeSeconds.
 */
export function minimumTtl(msg: Uint8Array): number {
  if (msg.length < 12) return DohLimits.defaultMaxAgeSeconds;
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const qd = view.getUint16(4);
  const rrs = view.getUint16(6) + view.getUint16(8) + view.getUint16(10);
  let i = 12;
  for (let q = 0; q < qd; q++) {
    i = skipName(msg, i);
    if (i < 0 || i + 4 > msg.length) return DohLimits.defaultMaxAgeSeconds;
    i += 4;
  }
  let min = Infinity;
  for (let r = 0; r < rrs; r++) {
    i = skipName(msg, i);
    if (i < 0 || i + 10 > msg.length) break;
    const type = view.getUint16(i);
    let ttl = view.getUint32(i + 4);
    const rdlength = view.getUint16(i + 8);
    const rdataEnd = i + 10 + rdlength;
    if (rdataEnd > msg.length) break;
    if (type !== RR_OPT) {
      if (type === RR_SOA && rdlength >= 20) ttl = Math.min(ttl, view.getUint32(rdataEnd - 4));
      min = Math.min(min, ttl);
    }
    i = rdataEnd;
  }
  return Number.isFinite(min) ? Math.min(min, 0x7fffffff) : DohLimits.defaultMaxAgeSeconds;
}

/** base64url without padding (RFC 8484 section 4.1); anything else is malformed. */
export function decodeDnsParam(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > DohLimits.maxQueryParamChars || !/^[A-Za-z0-9_-]+$/.test(text) || text.length % 4 === 1) return null;
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

/**
 * DNS over HTTPS (RFC 8484) in front of the authoritative responder: GET /dns-query?dns=<base64url> and POST
 * /dns-query with an application/dns-message body. Answers are the TCP answers (no 512-byte truncation) with
 * Cache-Control max-age from the smallest TTL. Plain HTTP unless a certificate is given (put a TLS proxy in front
 * otherwise); sizes, times and connections are bounded.
 */
export class DohServer {
  readonly stats: DohStats = { requests: 0, get: 0, post: 0, answered: 0, rejected: 0 };
  private readonly servers: Server[] = [];

  constructor(
    private readonly responder: AuthoritativeResponder,
    private readonly tls: { cert: Buffer; key: Buffer } | null = null,
    /** A connection idle (or still sending its headers) this long is closed. */
    private readonly timeoutMs: number = ServerLimits.headersTimeoutMs,
  ) {}

  private reject(res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
    this.stats.rejected++;
    const body = `${message}\n`;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
    res.end(body);
  }

  private answer(res: ServerResponse, query: Uint8Array, head: boolean): void {
    const { response, outcome } = this.responder.respond(query, 'tcp');
    if (!response || (outcome.kind === 'error' && outcome.rcode === 1)) {
      this.reject(res, 400, `malformed DNS query${outcome.kind === 'dropped' || outcome.kind === 'error' ? `: ${outcome.reason}` : ''}`);
      return;
    }
    this.stats.answered++;
    res.writeHead(200, {
      'content-type': DNS_MESSAGE,
      'content-length': response.length,
      'cache-control': `max-age=${minimumTtl(response)}`,
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    });
    res.end(head ? undefined : response);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.stats.requests++;
    const url = req.url ?? '';
    if (url.length > ServerLimits.maxUrlBytes) return this.reject(res, 414, 'URL too long');
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path !== DOH_PATH) return this.reject(res, 404, `not found: DoH is at ${DOH_PATH}`);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '86400' });
      res.end();
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      this.stats.get++;
      const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      const dns = params.getAll('dns');
      if (dns.length !== 1) return this.reject(res, 400, 'expected one dns= parameter (base64url DNS query)');
      const query = decodeDnsParam(dns[0]!);
      if (!query) return this.reject(res, 400, 'dns= is not base64url (without padding) or is too long');
      if (query.length > DohLimits.maxQueryBytes) return this.reject(res, 413, 'DNS query too large');
      return this.answer(res, query, req.method === 'HEAD');
    }
    if (req.method !== 'POST') return this.reject(res, 405, 'method not allowed: use GET or POST', { allow: 'GET, POST' });
    this.stats.post++;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== DNS_MESSAGE) {
      req.resume();
      return this.reject(res, 415, `content type must be ${DNS_MESSAGE}`);
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > DohLimits.maxQueryBytes) {
      res.setHeader('connection', 'close');
      this.reject(res, 413, 'DNS query too large');
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > DohLimits.maxQueryBytes) {
        done = true;
        res.setHeader('connection', 'close');
        this.reject(res, 413, 'DNS query too large');
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      if (size === 0) return this.reject(res, 400, 'empty body: POST one DNS query');
      this.answer(res, new Uint8Array(Buffer.concat(chunks)), false);
    });
    req.on('error', () => {
      done = true;
    });
  }

  /** Binds each address; returns the URLs ("http://127.0.0.1:PORT/dns-query"). */
  async start(addresses: ListenAddress[]): Promise<string[]> {
    const urls: string[] = [];
    for (const address of addresses) {
      const handler = (req: IncomingMessage, res: ServerResponse) => {
        try {
          this.handle(req, res);
        } catch {
          if (!res.headersSent) this.reject(res, 500, 'internal error');
          else res.destroy();
        }
      };
      // connectionsCheckingInterval: how often Node enforces headersTimeout/requestTimeout (default 30 s).
      const common = { connectionsCheckingInterval: Math.min(1000, this.timeoutMs), headersTimeout: this.timeoutMs };
      const server = this.tls ? createHttpsServer({ ...common, cert: this.tls.cert, key: this.tls.key }, handler) : createHttpServer(common, handler);
      server.requestTimeout = ServerLimits.requestTimeoutMs;
      server.keepAliveTimeout = ServerLimits.keepAliveTimeoutMs;
      server.maxConnections = ServerLimits.maxConnections;
      server.setTimeout(this.timeoutMs, (socket) => socket.destroy());
      server.maxHeadersCount = 64;
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(new EmblemError('DNS_LISTEN_FAILED', `cannot listen on ${address.host}:${address.port} (DoH): ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`)),
        );
        server.listen({ host: address.host, port: address.port }, () => resolve());
      });
      this.servers.push(server);
      const bound = server.address();
      const port = typeof bound === 'object' && bound ? bound.port : address.port;
      const host = isIPv6(address.host) ? `[${address.host}]` : address.host;
      urls.push(`${this.tls ? 'https' : 'http'}://${host}:${port}${DOH_PATH}`);
    }
    return urls;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }
}
