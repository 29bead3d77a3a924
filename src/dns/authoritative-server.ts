import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { createServer, isIP, isIPv6, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import { EmblemError } from '../core/errors.js';
import type { AuthoritativeResponder, ResponseOutcome } from './authoritative-responder.js';
import { batchedUdp } from './batched-udp-socket.js';
import { RateLimitedErrorLog } from './error-log.js';
import { DnsLimits } from './limits.js';
import { ResponseRateLimiter } from './response-rate-limit.js';

export interface ListenAddress {
  /** An IP address or a host name (bound on every address it resolves to). */
  host: string;
  /** 0 picks a free port, the same one for UDP and TCP. */
  port: number;
}

/** Abuse bounds of one server (`emblem dns serve` flags); defaults in DnsLimits. */
export interface ServerOptions {
  /** Identical UDP responses per second to one client network; 0 turns RRL off. */
  rrlResponsesPerSecond?: number;
  /** Every Nth rate-limited response is sent truncated instead of dropped; 0 drops all. */
  rrlSlip?: number;
  tcpMaxConnections?: number;
  /** Connections from one address; 0 = only the global cap. */
  tcpMaxPerAddress?: number;
  tcpIdleTimeoutMs?: number;
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
  /** Idle connections closed to make room for a new one (global or per-address cap). */
  tcpEvicted: number;
  /** Connections closed after completing no query for the idle timeout (trickling or not reading). */
  tcpTimedOut: number;
  /** Connections closed because their unread answers exceeded the output caps. */
  tcpOverflowed: number;
  /** UDP answers dropped, and sent truncated instead (slipped), by response rate limiting. */
  rateLimited: number;
  slipped: number;
}

/** One TCP client: its unanswered input, its unsent output, and its timers. */
interface TcpConnection {
  sock: TcpSocket;
  address: string;
  peer: string;
  input: Buffer;
  /** Answer bytes handed to the socket and not yet flushed to the kernel. */
  queued: number;
  served: number;
  /** performance.now() of the last complete query or flushed answer (eviction picks the oldest). */
  lastActivity: number;
  /** Not read while its answers are backed up. */
  paused: boolean;
  closed: boolean;
  idle: NodeJS.Timeout;
  lifetime: NodeJS.Timeout;
}

const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 16: 'BADVERS' };

const HOST_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** "IP:PORT", "[IPv6]:PORT" or "HOST:PORT" (a host name is resolved when the server starts). */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  const ok = m && Number(m[2]) <= 65535 && (m[0]!.startsWith('[') ? isIPv6(m[1]!) : isIP(m[1]!) !== 0 || HOST_NAME.test(m[1]!));
  if (!ok) throw new EmblemError('USAGE', `--listen ${JSON.stringify(text)}: expected IP:PORT, [IPv6]:PORT or HOST:PORT`);
  return { host: m[1]!, port: Number(m[2]) };
}

function formatAddress(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The literal addresses to bind for one --listen: the address itself, or every address the host name has. */
async function resolveListenHost(address: ListenAddress): Promise<string[]> {
  if (isIP(address.host)) return [address.host];
  try {
    const found = await lookup(address.host, { all: true, verbatim: true });
    const hosts = [...new Set(found.map((f) => f.address))];
    if (hosts.length > 0) return hosts;
  } catch (err) {
    throw new EmblemError('DNS_LISTEN_FAILED', `--listen ${formatAddress(address.host, address.port)}: cannot resolve ${address.host} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  throw new EmblemError('DNS_LISTEN_FAILED', `--listen ${formatAddress(address.host, address.port)}: ${address.host} has no address`);
}

/** A bind failure that names the address (the system's "Address already in use" alone does not). */
function listenError(host: string, port: number, transport: 'UDP' | 'TCP', err: unknown): EmblemError {
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EADDRNOTAVAIL' ? 'address not available on this host' : e.message;
  return new EmblemError('DNS_LISTEN_FAILED', `cannot listen on ${formatAddress(host, port)} (${transport}): ${why}`);
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
    tcpEvicted: 0,
    tcpTimedOut: 0,
    tcpOverflowed: 0,
    rateLimited: 0,
    slipped: 0,
  };
  /** The bound UDP sockets (node:dgram or batched native ones): how each is served and how to close it. */
  private readonly udp: Array<{ engine: 'native' | 'dgram'; close: () => Promise<void> }> = [];
  private readonly tcp: TcpServer[] = [];
  private readonly connections = new Set<TcpConnection>();
  private readonly byAddress = new Map<string, Set<TcpConnection>>();
  /** Answer bytes queued over all TCP connections. */
  private queuedTotal = 0;
  private readonly rrl: ResponseRateLimiter | null;
  private readonly tcpMaxConnections: number;
  private readonly tcpMaxPerAddress: number;
  private readonly tcpIdleTimeoutMs: number;

  constructor(
    private readonly responder: AuthoritativeResponder,
    private readonly log: RateLimitedErrorLog = new RateLimitedErrorLog(),
    options: ServerOptions = {},
  ) {
    const rate = options.rrlResponsesPerSecond ?? DnsLimits.defaultRrlResponsesPerSecond;
    this.rrl = rate > 0 ? new ResponseRateLimiter(rate, options.rrlSlip ?? DnsLimits.defaultRrlSlip) : null;
    this.tcpMaxConnections = options.tcpMaxConnections ?? DnsLimits.maxTcpConnections;
    this.tcpMaxPerAddress = options.tcpMaxPerAddress ?? DnsLimits.maxTcpConnectionsPerAddress;
    this.tcpIdleTimeoutMs = options.tcpIdleTimeoutMs ?? DnsLimits.tcpIdleTimeoutMs;
  }

  /** "native" when the bound UDP sockets are served in batches by native/udp_batch.c, "dgram" otherwise (same
   *  answers, fewer queries/s). Read after start(). */
  get udpEngine(): 'native' | 'dgram' {
    return this.udp.length > 0 && this.udp.every((u) => u.engine === 'native') ? 'native' : 'dgram';
  }

  /** Binds every address (a host name: each address it resolves to); returns the bound "host:port" strings
   *  (ports resolved when 0 was asked). */
  async start(addresses: ListenAddress[]): Promise<string[]> {
    const bound: string[] = [];
    for (const address of addresses) {
      for (const host of await resolveListenHost(address)) bound.push(await this.bindPair({ host, port: address.port }));
    }
    return bound;
  }

  private async bindPair(address: ListenAddress): Promise<string> {
    // With port 0, UDP picks the port and TCP must get the same one; retry if TCP finds it taken.
    for (let attempt = 0; attempt < 20; attempt++) {
      const udp = await this.bindUdp(address);
      const { port } = udp;
      const tcp = createServer({ pauseOnConnect: false, highWaterMark: DnsLimits.tcpOutputPauseBytes }, (sock) => this.onTcpConnection(sock));
      const ok = await new Promise<boolean>((resolve, reject) => {
        tcp.once('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'EADDRINUSE' && address.port === 0) resolve(false);
          else reject(listenError(address.host, port, 'TCP', err));
        });
        tcp.listen({ port, host: address.host, backlog: 128 }, () => resolve(true));
      }).catch(async (err: unknown) => {
        await udp.close();
        throw err;
      });
      if (!ok) {
        await udp.close();
        continue;
      }
      tcp.on('error', (err) => this.log.error('tcp-error', { message: err.message }));
      this.udp.push(udp);
      this.tcp.push(tcp);
      return formatAddress(address.host, port);
    }
    throw new EmblemError('DNS_LISTEN_FAILED', `could not bind UDP and TCP to the same port on ${address.host}`);
  }

  private account(outcome: ResponseOutcome, peer: () => string, transport: 'udp' | 'tcp'): void {
    if (outcome.kind === 'rate-limited') {
      // Not logged: the stats count them, and a spoofed flood would only fill the log with the victim's address.
      if (outcome.slipped) this.stats.slipped++;
      else this.stats.rateLimited++;
      return;
    }
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
      let sock: ReturnType<typeof native.open>;
      try {
        sock = native.open(address.host, address.port, family === 6, DnsLimits.udpSocketBufferBytes, (messages, peers) => {
          const dropped = sock.dropped();
          this.stats.dropped += dropped - droppedSeen;
          droppedSeen = dropped;
          return messages.map((msg, i) => this.answerUdp(msg, () => peers[i] ?? '?'));
        });
      } catch (err) {
        throw listenError(address.host, address.port, 'UDP', err);
      }
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
      // The same peer text as the native module's ("[v6]:port" for IPv6), so RRL groups both paths alike.
      const response = this.answerUdp(msg, () => (family === 6 ? `[${rinfo.address}]:${rinfo.port}` : `${rinfo.address}:${rinfo.port}`));
      if (response) udp.send(response, rinfo.port, rinfo.address);
    });
    udp.on('error', (err) => this.log.error('udp-error', { message: err.message }));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', (err) => reject(listenError(address.host, address.port, 'UDP', err)));
      udp.bind(address.port, address.host, () => {
        udp.removeAllListeners('error');
        udp.on('error', (err) => this.log.error('udp-error', { message: err.message }));
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
      const rrl = this.rrl;
      const { response, outcome } = this.responder.respond(msg, 'udp', rrl ? (answerClass) => rrl.check(peer(), answerClass) : undefined);
      this.account(outcome, peer, 'udp');
      return response ?? null;
    } catch (err) {
      // A bug, not hostile input (the responder never throws on bad packets): log it and keep serving.
      this.log.error('internal-error', { peer: peer(), message: err instanceof Error ? err.message : String(err) });
      return null;
    }
  }

  /**
   * The connection waiting longest for a query with nothing to send (a trickler, a parked keep-alive), or null
   * when every connection is busy or was active within the last second. A connection with queued answers or
   * a complete query is never "idle".
   */
  private idlest(candidates: Iterable<TcpConnection>): TcpConnection | null {
    let best: TcpConnection | null = null;
    const cutoff = performance.now() - Math.min(DnsLimits.tcpEvictableIdleMs, this.tcpIdleTimeoutMs / 2);
    for (const c of candidates) {
      if (c.closed || c.queued > 0 || c.paused || c.lastActivity > cutoff) continue;
      if (!best || c.lastActivity < best.lastActivity) best = c;
    }
    return best;
  }

  private closeTcp(conn: TcpConnection, reason: string, counter?: 'tcpEvicted' | 'tcpTimedOut' | 'tcpOverflowed'): void {
    if (conn.closed) return;
    if (counter) {
      this.stats[counter]++;
      this.log.error('tcp-closed', { peer: conn.peer, reason });
    }
    this.forget(conn);
    conn.sock.destroy();
  }

  /** Drops a connection from every table and gives back its share of the output budget (exactly once). */
  private forget(conn: TcpConnection): void {
    if (conn.closed) return;
    conn.closed = true;
    clearTimeout(conn.idle);
    clearTimeout(conn.lifetime);
    this.queuedTotal -= conn.queued;
    conn.queued = 0;
    conn.input = EMPTY;
    this.connections.delete(conn);
    const mine = this.byAddress.get(conn.address);
    mine?.delete(conn);
    if (mine?.size === 0) this.byAddress.delete(conn.address);
  }

  private touch(conn: TcpConnection): void {
    conn.lastActivity = performance.now();
    conn.idle.refresh();
  }

  private onTcpConnection(sock: TcpSocket): void {
    const address = sock.remoteAddress;
    const peer = `${address}:${sock.remotePort}`;
    if (address === undefined) {
      sock.destroy();
      return;
    }
    const reject = (reason: string) => {
      this.stats.tcpRejected++;
      this.log.error('tcp-rejected', { peer, reason });
      sock.destroy();
    };
    // One address cannot hold every slot: at its limit, its own idlest connection makes room, or it is refused.
    const mine = this.byAddress.get(address);
    if (this.tcpMaxPerAddress > 0 && mine && mine.size >= this.tcpMaxPerAddress) {
      const victim = this.idlest(mine);
      if (!victim) return reject('too many connections from this address');
      this.closeTcp(victim, 'evicted: per-address connection limit', 'tcpEvicted');
    }
    // At the global cap the connection idle the longest is evicted (as NSD and Knot do), else the newcomer goes.
    if (this.connections.size >= this.tcpMaxConnections) {
      const victim = this.idlest(this.connections);
      if (!victim) return reject('too many connections');
      this.closeTcp(victim, 'evicted: connection limit', 'tcpEvicted');
    }
    this.stats.tcpConnections++;
    const conn: TcpConnection = {
      sock,
      address,
      peer,
      input: EMPTY,
      queued: 0,
      served: 0,
      lastActivity: performance.now(),
      paused: false,
      closed: false,
      // Restarted by each complete query and each flushed answer, not by bytes: trickling does not keep it open.
      idle: setTimeout(() => this.closeTcp(conn, 'idle: no complete query', 'tcpTimedOut'), this.tcpIdleTimeoutMs),
      // However active, a connection ends after this long (slowloris bound together with the caps).
      lifetime: setTimeout(() => this.closeTcp(conn, 'connection lifetime reached'), DnsLimits.tcpMaxConnectionMs),
    };
    conn.idle.unref();
    conn.lifetime.unref();
    this.connections.add(conn);
    this.byAddress.set(address, (mine ?? new Set()).add(conn));
    sock.setNoDelay(true);
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.forget(conn));
    sock.on('data', (chunk: Buffer) => {
      if (conn.closed) return;
      conn.input = conn.input.length === 0 ? chunk : Buffer.concat([conn.input, chunk]);
      this.serveTcp(conn);
    });
    sock.on('drain', () => {
      if (conn.closed || !conn.paused) return;
      conn.paused = false;
      this.serveTcp(conn);
      if (!conn.paused && !conn.closed) sock.resume();
    });
  }

  /** Answers the complete queries read so far, until the connection's output backs up. */
  private serveTcp(conn: TcpConnection): void {
    // Each message is prefixed by its 16-bit length (RFC 1035 §4.2.2). Input is only read while output flows,
    // so it holds at most one partial message plus one read.
    while (!conn.paused && !conn.closed && conn.input.length >= 2) {
      const len = conn.input.readUInt16BE(0);
      if (conn.input.length < 2 + len) break;
      const msg = conn.input.subarray(2, 2 + len);
      conn.input = conn.input.subarray(2 + len);
      this.stats.queries++;
      this.stats.tcpQueries++;
      conn.served++;
      this.touch(conn);
      try {
        const { response, outcome } = this.responder.respond(msg, 'tcp');
        this.account(outcome, () => conn.peer, 'tcp');
        if (!response) {
          conn.sock.end();
          conn.input = EMPTY;
          return;
        }
        this.writeTcp(conn, response);
      } catch (err) {
        this.log.error('internal-error', { peer: conn.peer, message: err instanceof Error ? err.message : String(err) });
        this.closeTcp(conn, 'internal error');
        return;
      }
      if (conn.served >= DnsLimits.maxQueriesPerTcpConnection) {
        conn.sock.end();
        conn.input = EMPTY;
        return;
      }
    }
  }

  /**
   * Queues one framed answer. When the socket's buffer is full the connection stops being read until it drains
   * (backpressure); past the per-connection or global output caps, the worst offender is closed.
   */
  private writeTcp(conn: TcpConnection, response: Buffer): void {
    const framed = Buffer.allocUnsafe(2 + response.length);
    framed.writeUInt16BE(response.length, 0);
    response.copy(framed, 2);
    const n = framed.length;
    conn.queued += n;
    this.queuedTotal += n;
    const flowing = conn.sock.write(framed, () => {
      if (conn.closed) return;
      conn.queued -= n;
      this.queuedTotal -= n;
      this.touch(conn);
    });
    if (conn.queued > DnsLimits.tcpMaxPendingOutputBytes) {
      this.closeTcp(conn, 'output backlog over the per-connection cap', 'tcpOverflowed');
      return;
    }
    if (this.queuedTotal > DnsLimits.tcpMaxPendingOutputBytesTotal) {
      let worst = conn;
      for (const c of this.connections) if (c.queued > worst.queued) worst = c;
      this.closeTcp(worst, 'output backlog over the global cap', 'tcpOverflowed');
      if (conn.closed) return;
    }
    if (!flowing) {
      conn.paused = true;
      conn.sock.pause();
    }
  }

  async stop(): Promise<void> {
    for (const c of [...this.connections]) this.closeTcp(c, 'server stopping');
    await Promise.all([
      ...this.udp.map((u) => u.close()),
      ...this.tcp.map((t) => new Promise<void>((r) => t.close(() => r()))),
    ]);
  }
}

const EMPTY = Buffer.alloc(0);
