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

interface PooledSocket {
  socket: Socket;
  pending: Map<number, Pending>;
  used: number;
  retired: boolean;
}

export class UdpSocketPool implements UdpExchanger {
  private readonly sockets: { udp4: PooledSocket[]; udp6: PooledSocket[] } = { udp4: [], udp6: [] };
  private next = 0;

  constructor(private readonly options: UdpPoolOptions = { socketsPerFamily: 8, maxQueriesPerSocket: 256 }) {}

  /**
   * Sends `query` to host:port and resolves with the first datagram from exactly that address and port carrying
   * the query's ID (off-path packets with other IDs or sources are ignored). Rejects on a socket error; the caller
   * owns the timeout and calls the returned `cancel` when it gives up.
   */
  send(host: string, port: number, query: Buffer): { answer: Promise<Buffer>; cancel(): void } {
    const id = query.readUInt16BE(0);
    const entry = this.socketFor(isIPv6(host) ? 'udp6' : 'udp4', id);
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

  private socketFor(family: 'udp4' | 'udp6', id: number): PooledSocket {
    const live = this.sockets[family].filter((s) => !s.retired);
    this.sockets[family] = this.sockets[family].filter((s) => !s.retired || s.pending.size > 0);
    // Round robin over sockets that do not already wait for this ID.
    for (let i = 0; i < live.length; i++) {
      const candidate = live[(this.next + i) % live.length]!;
      if (!candidate.pending.has(id)) {
        this.next = (this.next + i + 1) % Math.max(1, live.length);
        return this.use(candidate);
      }
    }
    if (live.length < this.options.socketsPerFamily) {
      const created = this.open(family);
      this.sockets[family].push(created);
      return this.use(created);
    }
    // Every pooled socket waits for this very ID (vanishingly rare): a private socket, retired after use.
    const single = this.open(family);
    single.retired = true;
    this.sockets[family].push(single);
    return this.use(single);
  }

  private use(entry: PooledSocket): PooledSocket {
    entry.used++;
    if (entry.used >= this.options.maxQueriesPerSocket) entry.retired = true;
    return entry;
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
