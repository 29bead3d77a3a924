import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

/**
 * A small pool of UDP sockets shared by concurrent queries. Opening, binding and closing a socket per query cost a
 * third of a bulk scan's main thread; a few long-lived sockets, each carrying many queries told apart by their
 * 16-bit IDs, remove that cost.
 *
 * Why this is safe enough: fewer source ports give an off-path spoofer fewer bits to guess than one fresh port per
 * query. ADEM answers are signed, so a spoofed answer can at worst hide an emblem (no-emblem, nxdomain), never
 * forge one; and each socket is retired after `maxQueriesPerSocket` queries, so its port keeps changing.
 */
/** What the resolver needs from a UDP transport: one query out, its answer (or an error) back. */
export interface UdpExchanger {
  send(host: string, port: number, query: Buffer): { answer: Promise<Buffer>; cancel(): void };
}

export interface UdpPoolOptions {
  socketsPerFamily: number;
  maxQueriesPerSocket: number;
}

interface Pending {
  host: string;
  port: number;
  resolve(message: Buffer): void;
}

/** What SocketRotation needs of a pooled socket (both transports' sockets have these fields). */
export interface RotatedSocket {
  pending: Map<number, unknown>;
  used: number;
  retired: boolean;
}

/**
 * Which socket carries the next query, shared by both transports: round robin over the live sockets of the family
 * that do not already wait for this ID; up to `socketsPerFamily` of them, each retired (it leaves the rotation)
 * after `maxQueriesPerSocket` queries. When every pooled socket waits for this very ID (vanishingly rare), a
 * private socket is opened and retired at once. No allocation per query.
 */
export class SocketRotation<S extends RotatedSocket> {
  private readonly live: { udp4: S[]; udp6: S[] } = { udp4: [], udp6: [] };
  private next = 0;

  constructor(
    private readonly options: UdpPoolOptions,
    private readonly open: (family: 'udp4' | 'udp6') => S,
  ) {}

  socketFor(family: 'udp4' | 'udp6', id: number): S {
    const live = this.live[family];
    const n = live.length;
    for (let i = 0; i < n; i++) {
      const k = (this.next + i) % n;
      const candidate = live[k]!;
      if (!candidate.pending.has(id)) {
        this.next = k + 1;
        return this.use(candidate, live, k);
      }
    }
    const created = this.open(family);
    if (n < this.options.socketsPerFamily) {
      live.push(created);
      return this.use(created, live, n);
    }
    created.retired = true;
    created.used++;
    return created;
  }

  private use(entry: S, live: S[], index: number): S {
    entry.used++;
    if (entry.used >= this.options.maxQueriesPerSocket) {
      entry.retired = true;
      live.splice(index, 1);
    }
    return entry;
  }
}

interface PooledSocket extends RotatedSocket {
  socket: Socket;
  pending: Map<number, Pending>;
}

export class UdpSocketPool implements UdpExchanger {
  private readonly rotation: SocketRotation<PooledSocket>;

  constructor(options: UdpPoolOptions = { socketsPerFamily: 8, maxQueriesPerSocket: 256 }) {
    this.rotation = new SocketRotation(options, (family) => this.open(family));
  }

  /**
   * Sends `query` to host:port and resolves with the first datagram from exactly that address and port carrying
   * the query's ID (off-path packets with other IDs or sources are ignored). Rejects on a socket error; the caller
   * owns the timeout and calls the returned `cancel` when it gives up.
   */
  send(host: string, port: number, query: Buffer): { answer: Promise<Buffer>; cancel(): void } {
    const id = query.readUInt16BE(0);
    const entry = this.rotation.socketFor(isIPv6(host) ? 'udp6' : 'udp4', id);
    let settle!: { resolve(b: Buffer): void; reject(e: Error): void };
    const answer = new Promise<Buffer>((resolve, reject) => (settle = { resolve, reject }));
    const done = () => {
      entry.pending.delete(id);
      this.closeIfIdle(entry);
    };
    entry.pending.set(id, {
      host,
      port,
      resolve: (message) => {
        done();
        settle.resolve(message);
      },
    });
    entry.socket.send(query, port, host, (err) => {
      if (err) {
        done();
        settle.reject(err);
      }
    });
    return { answer, cancel: done };
  }

  private open(family: 'udp4' | 'udp6'): PooledSocket {
    const socket = createSocket(family);
    const entry: PooledSocket = { socket, pending: new Map(), used: 0, retired: false };
    socket.on('message', (msg, rinfo) => {
      if (msg.length < 12) return;
      const waiting = entry.pending.get(msg.readUInt16BE(0));
      if (!waiting || rinfo.port !== waiting.port) return;
      if (rinfo.address !== waiting.host && rinfo.address !== `::ffff:${waiting.host}`) return;
      waiting.resolve(msg);
    });
    socket.on('error', () => {
      // A socket-level error (e.g. ICMP unreachable surfaced by the OS) retires the socket; its queries time out
      // in their callers and are retried on a fresh one.
      entry.retired = true;
      this.closeIfIdle(entry);
    });
    // Pooled sockets must not keep a finished CLI process alive.
    socket.unref();
    return entry;
  }

  private closeIfIdle(entry: PooledSocket): void {
    if (entry.retired && entry.pending.size === 0) {
      try {
        entry.socket.close();
      } catch {
        // already closed
      }
    }
  }
}
