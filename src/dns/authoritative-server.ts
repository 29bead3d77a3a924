import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, isIPv6, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import { EmblemError } from '../core/errors.js';
import type { AuthoritativeResponder, ResponseOutcome } from './authoritative-responder.js';
import { batchedUdp } from './batched-udp-socket.js';
import { RateLimitedErrorLog } from './error-log.js';
import { DnsLimits } from './limits.js';

export interface ListenAddress {
  host: string;
  /** 0 picks a free port, the same one for UDP and TCP. */
  port: number;
}

/** Counters a test or operator can read (`--stats-file`, SIGUSR1): e.g. "this server saw zero queries". */
export interface ServerStats {
  startedAt: string;
  /** Every message received, valid or not. */
  queries: number;
  udpQueries: number;
  tcpQueries: number;
  answered: number;
  truncated: number;
  /** Answers by RCODE name. */
  rcodes: Record<string, number>;
  /** FORMERR/NOTIMP/BADVERS answers to malformed queries. */
  malformed: number;
  dropped: number;
  tcpConnections: number;
  tcpRejected: number;
}

const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 16: 'BADVERS' };

export function parseListenAddress(text: string): ListenAddress {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  // Literal addresses only: replies are sent to literal peers without name resolution, and a name here would
  // fail at bind time with a less helpful error.
  if (!m || Number(m[2]) > 65535 || !isIP(m[1]!)) throw new EmblemError('USAGE', `--listen ${JSON.stringify(text)}: expected IP:PORT or [IPv6]:PORT`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** The transport loop around an AuthoritativeResponder: UDP and TCP (RFC 7766) on each listen address. */
export class AuthoritativeServer {
  readonly stats: ServerStats = {
    startedAt: new Date().toISOString(),
    queries: 0,
    udpQueries: 0,
    tcpQueries: 0,
    answered: 0,
    truncated: 0,
    rcodes: {},
    malformed: 0,
    dropped: 0,
    tcpConnections: 0,
    tcpRejected: 0,
  };
  /** The bound UDP sockets (node:dgram or batched native ones): how each is served and how to close it. */
  private readonly udp: Array<{ engine: 'native' | 'dgram'; close: () => Promise<void> }> = [];
  private readonly tcp: TcpServer[] = [];
  private readonly connections = new Set<TcpSocket>();

  constructor(
    private readonly responder: AuthoritativeResponder,
    private readonly log: RateLimitedErrorLog = new RateLimitedErrorLog(),
  ) {}

  /** "native" when the bound UDP sockets are served in batches by native/udp_batch.c, "dgram" otherwise (same
   *  answers, fewer queries/s). Read after start(). */
  get udpEngine(): 'native' | 'dgram' {
    return this.udp.length > 0 && this.udp.every((u) => u.engine === 'native') ? 'native' : 'dgram';
  }

  /** Binds every address; returns the bound "host:port" strings (ports resolved when 0 was asked). */
  async start(addresses: ListenAddress[]): Promise<string[]> {
    const bound: string[] = [];
    for (const address of addresses) bound.push(await this.bindPair(address));
    return bound;
  }

  private async bindPair(address: ListenAddress): Promise<string> {
    // With port 0, UDP picks the port and TCP must get the same one; retry if TCP finds it taken.
    for (let attempt = 0; attempt < 20; attempt++) {
      const udp = await this.bindUdp(address);
      const { port } = udp;
      const tcp = createServer({ pauseOnConnect: false }, (sock) => this.onTcpConnection(sock));
      const ok = await new Promise<boolean>((resolve, reject) => {
        tcp.once('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'EADDRINUSE' && address.port === 0) resolve(false);
          else reject(err);
        });
        tcp.listen({ port, host: address.host, backlog: 128 }, () => resolve(true));
      });
      if (!ok) {
        await udp.close();
        continue;
      }
      tcp.on('error', (err) => this.log.error('tcp-error', { message: err.message }));
      this.udp.push(udp);
      this.tcp.push(tcp);
      return isIPv6(address.host) ? `[${address.host}]:${port}` : `${address.host}:${port}`;
    }
    throw new EmblemError('DNS_LISTEN_FAILED', `could not bind UDP and TCP to the same port on ${address.host}`);
  }

  private account(outcome: ResponseOutcome, peer: () => string, transport: 'udp' | 'tcp'): void {
    if (outcome.kind === 'dropped') {
      this.stats.dropped++;
      this.log.error('query-dropped', { peer: peer(), transport, reason: outcome.reason });
      return;
    }
    const name = RCODE_NAMES[outcome.rcode] ?? String(outcome.rcode);
    this.stats.rcodes[name] = (this.stats.rcodes[name] ?? 0) + 1;
    if (outcome.kind === 'error') {
      this.stats.malformed++;
      this.log.error('query-malformed', { peer: peer(), transport, rcode: name, reason: outcome.reason });
      return;
    }
    this.stats.answered++;
    if (outcome.truncated) this.stats.truncated++;
  }

  /** One UDP socket on `address`, native batched when available; returns its port and how to close it. */
  private async bindUdp(address: ListenAddress): Promise<{ engine: 'native' | 'dgram'; port: number; close: () => Promise<void> }> {
    const family = isIPv6(address.host) ? 6 : 4;
    const native = batchedUdp();
    if (native) {
      // The module counts answers the kernel refused after each batch is handed back; they join the dropped count
      // when the next batch arrives, so the counters a stats file shows are at most one batch behind.
      let droppedSeen = 0;
      const sock = native.open(address.host, address.port, family === 6, DnsLimits.udpSocketBufferBytes, (messages, peers) => {
        const dropped = sock.dropped();
        this.stats.dropped += dropped - droppedSeen;
        droppedSeen = dropped;
        return messages.map((msg, i) => this.answerUdp(msg, () => peers[i] ?? '?'));
      });
      return { engine: 'native', port: sock.port, close: async () => sock.close() };
    }
    // Replies go to the literal address the query came from. dgram would resolve it through dns.lookup, which
    // defers every send by a tick; answering the literal synchronously measured ~1.5x more queries/s.
    const udp: UdpSocket = createSocket({
      type: family === 6 ? 'udp6' : 'udp4',
      lookup: (host, _options, callback) => callback(null, host, family),
      // Bursts queue in the kernel instead of being dropped while the loop is busy (capped by net.core.rmem_max).
      recvBufferSize: DnsLimits.udpSocketBufferBytes,
      sendBufferSize: DnsLimits.udpSocketBufferBytes,
    });
    udp.on('message', (msg, rinfo) => {
      const response = this.answerUdp(msg, () => `${rinfo.address}:${rinfo.port}`);
      if (response) udp.send(response, rinfo.port, rinfo.address);
    });
    udp.on('error', (err) => this.log.error('udp-error', { message: err.message }));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(address.port, address.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    return { engine: 'dgram', port: udp.address().port, close: () => new Promise<void>((r) => udp.close(() => r())) };
  }

  /** The response to one UDP query, or null; counts and logs it. Never throws (the native batch must go on). */
  private answerUdp(msg: Buffer, peer: () => string): Buffer | null {
    this.stats.queries++;
    this.stats.udpQueries++;
    try {
      const { response, outcome } = this.responder.respond(msg, 'udp');
      this.account(outcome, peer, 'udp');
      return response ?? null;
    } catch (err) {
      // A bug, not hostile input (the responder never throws on bad packets): log it and keep serving.
      this.log.error('internal-error', { peer: peer(), message: err instanceof Error ? err.message : String(err) });
      return null;
    }
  }

  private onTcpConnection(sock: TcpSocket): void {
    if (this.connections.size >= DnsLimits.maxTcpConnections) {
      this.stats.tcpRejected++;
      this.log.error('tcp-rejected', { peer: `${sock.remoteAddress}:${sock.remotePort}`, reason: 'too many connections' });
      sock.destroy();
      return;
    }
    this.stats.tcpConnections++;
    this.connections.add(sock);
    const peer = `${sock.remoteAddress}:${sock.remotePort}`;
    let pending: Buffer = Buffer.alloc(0);
    let served = 0;
    sock.setNoDelay(true);
    sock.setTimeout(DnsLimits.tcpIdleTimeoutMs, () => sock.destroy());
    // The idle timer restarts on every byte; this one does not, so a trickling client cannot hold a slot forever.
    const lifetime = setTimeout(() => sock.destroy(), DnsLimits.tcpMaxConnectionMs);
    lifetime.unref();
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      clearTimeout(lifetime);
      this.connections.delete(sock);
    });
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      // Each message is prefixed by its 16-bit length (RFC 1035 §4.2.2), so pending never exceeds 64 KiB + a chunk.
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        this.stats.queries++;
        this.stats.tcpQueries++;
        served++;
        try {
          const { response, outcome } = this.responder.respond(msg, 'tcp');
          this.account(outcome, () => peer, 'tcp');
          if (response) {
            const prefix = Buffer.alloc(2);
            prefix.writeUInt16BE(response.length);
            sock.write(Buffer.concat([prefix, response]));
          } else {
            sock.end();
            return;
          }
        } catch (err) {
          this.log.error('internal-error', { peer, message: err instanceof Error ? err.message : String(err) });
          sock.destroy();
          return;
        }
        if (served >= DnsLimits.maxQueriesPerTcpConnection) {
          sock.end();
          return;
        }
      }
    });
  }

  async stop(): Promise<void> {
    for (const s of this.connections) s.destroy();
    await Promise.all([
      ...this.udp.map((u) => u.close()),
      ...this.tcp.map((t) => new Promise<void>((r) => t.close(() => r()))),
    ]);
  }
}
