import { isIPv6 } from 'node:net';
import { batchedUdp, type BatchedUdpSocket } from './batched-udp-socket.js';
import { DnsLimits } from './limits.js';
import type { UdpExchanger, UdpPoolOptions } from './udp-socket-pool.js';

interface Pending {
  /** The peer the answer must come from, as the native module prints it ("1.2.3.4:53", "[::1]:53"). */
  peer: string;
  resolve(message: Buffer): void;
  reject(err: Error): void;
}

interface Outgoing {
  host: string;
  port: number;
  query: Buffer;
  id: number;
}

interface ClientSocket {
  socket: BatchedUdpSocket;
  pending: Map<number, Pending>;
  outbox: Outgoing[];
  used: number;
  retired: boolean;
  closed: boolean;
}

/** What a query's answer promise rejects with when its deadline passes (the resolver turns it into DNS_TIMEOUT). */
export class UdpQueryTimeout extends Error {
  constructor() {
    super('UDP query timed out');
  }
}

interface Deadline {
  at: number;
  entry: ClientSocket;
  id: number;
  pending: Pending;
}

/** Largest batch the native module sends with one sendmmsg (its BATCH). */
const NATIVE_BATCH = 64;

function peerString(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The resolver client's UDP sockets, served by the native module (native/udp_batch.c): queries asked during one
 * turn of the event loop leave together with one sendmmsg per socket, and answers arrive in batches of up to 64 per
 * recvmmsg. Same contract and same safety rules as UdpSocketPool (node:dgram): answers must come from exactly the
 * address asked and carry the query's ID; sockets are retired after `maxQueriesPerSocket` queries so the source
 * port keeps changing. Only the number of system calls differs.
 */
export class BatchedUdpClientPool implements UdpExchanger {
  private readonly sockets: { udp4: ClientSocket[]; udp6: ClientSocket[] } = { udp4: [], udp6: [] };
  private next = 0;
  private flushScheduled = false;
  private readonly dirty = new Set<ClientSocket>();
  /**
   * Deadlines per timeout length, each queue in deadline order (same length, later asked = later deadline), with
   * one timer for the earliest of them: no timer and no extra promise per query.
   */
  private readonly deadlines = new Map<number, { queue: Deadline[]; head: number }>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  /** Queries with a deadline whose caller has not called cancel() yet: while there are none, the timer is unref'd
   *  (a finished command exits at once instead of waiting for the last deadline). */
  private timed = 0;

  constructor(
    private readonly native: NonNullable<ReturnType<typeof batchedUdp>>,
    private readonly options: UdpPoolOptions = { socketsPerFamily: DnsLimits.resolverSocketsPerFamily, maxQueriesPerSocket: DnsLimits.resolverQueriesPerSocket },
  ) {}

  /** As UdpSocketPool.send; with `timeoutMs`, the answer rejects with UdpQueryTimeout when no answer came in time. */
  send(host: string, port: number, query: Buffer, timeoutMs?: number): { answer: Promise<Buffer>; cancel(): void } {
    const id = query.readUInt16BE(0);
    const entry = this.socketFor(isIPv6(host) ? 'udp6' : 'udp4', id);
    let pending!: Pending;
    const answer = new Promise<Buffer>((resolve, reject) => {
      pending = { peer: peerString(host, port), resolve, reject };
    });
    entry.pending.set(id, pending);
    entry.outbox.push({ host, port, query, id });
    if (timeoutMs !== undefined) {
      this.timed++;
      this.timer?.ref();
      this.addDeadline(timeoutMs, { at: performance.now() + timeoutMs, entry, id, pending });
    }
    let cancelled = false;
    this.dirty.add(entry);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return {
      answer,
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        if (timeoutMs !== undefined && --this.timed === 0) this.timer?.unref();
        if (entry.pending.get(id) === pending) entry.pending.delete(id);
        this.closeIfIdle(entry);
      },
    };
  }

  /** Sends every queued query, a batch per destination and socket; what the kernel did not take waits a turn. */
  private flush(): void {
    this.flushScheduled = false;
    const sockets = [...this.dirty];
    this.dirty.clear();
    for (const entry of sockets) {
      const queue = entry.outbox;
      entry.outbox = [];
      let i = 0;
      while (i < queue.length) {
        const first = queue[i]!;
        const items: Outgoing[] = [];
        let j = i;
        while (j < queue.length && items.length < NATIVE_BATCH && queue[j]!.host === first.host && queue[j]!.port === first.port) {
          // A query cancelled before it left (its caller timed out or gave up) is not sent.
          if (entry.pending.has(queue[j]!.id)) items.push(queue[j]!);
          j++;
        }
        let sent = 0;
        if (items.length > 0) {
          try {
            sent = entry.socket.send(items.map((o) => o.query), first.host, first.port);
          } catch (err) {
            this.failAll(entry, err instanceof Error ? err : new Error(String(err)));
            break;
          }
        }
        if (sent < items.length) {
          // The kernel's send buffer is full: the unsent queries (in order) wait for the next turn.
          entry.outbox = items.slice(sent).concat(queue.slice(j), entry.outbox);
          this.dirty.add(entry);
          if (!this.flushScheduled) {
            this.flushScheduled = true;
            setImmediate(() => this.flush());
          }
          break;
        }
        i = j;
      }
    }
  }

  private addDeadline(timeoutMs: number, d: Deadline): void {
    let q = this.deadlines.get(timeoutMs);
    if (!q) this.deadlines.set(timeoutMs, (q = { queue: [], head: 0 }));
    q.queue.push(d);
    if (d.at < this.timerAt) this.arm(d.at);
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - performance.now()));
    if (this.timed === 0) this.timer.unref();
  }

  /** Rejects every query whose deadline passed and that is still waiting; re-arms for the next deadline. */
  private expire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [length, q] of this.deadlines) {
      while (q.head < q.queue.length && q.queue[q.head]!.at <= now) {
        const d = q.queue[q.head++]!;
        if (d.entry.pending.get(d.id) === d.pending) {
          d.entry.pending.delete(d.id);
          d.pending.reject(new UdpQueryTimeout());
          this.closeIfIdle(d.entry);
        }
      }
      if (q.head === q.queue.length) this.deadlines.delete(length);
      else {
        // Drop the expired prefix now and then, so a long scan's queue does not grow without bound.
        if (q.head > 4096) {
          q.queue = q.queue.slice(q.head);
          q.head = 0;
        }
        next = Math.min(next, q.queue[q.head]!.at);
      }
    }
    if (next !== Infinity) this.arm(next);
  }

  private failAll(entry: ClientSocket, err: Error): void {
    entry.retired = true;
    const waiting = [...entry.pending.values()];
    entry.pending.clear();
    entry.outbox = [];
    for (const p of waiting) p.reject(err);
    this.closeIfIdle(entry);
  }

  private socketFor(family: 'udp4' | 'udp6', id: number): ClientSocket {
    const all = this.sockets[family];
    if (all.some((s) => s.retired && s.closed)) this.sockets[family] = all.filter((s) => !(s.retired && s.closed));
    const live = this.sockets[family].filter((s) => !s.retired);
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

  private use(entry: ClientSocket): ClientSocket {
    entry.used++;
    if (entry.used >= this.options.maxQueriesPerSocket) entry.retired = true;
    return entry;
  }

  private open(family: 'udp4' | 'udp6'): ClientSocket {
    const entry = { pending: new Map(), outbox: [], used: 0, retired: false, closed: false } as unknown as ClientSocket;
    const ipv6 = family === 'udp6';
    entry.socket = this.native.open(ipv6 ? '::' : '0.0.0.0', 0, ipv6, DnsLimits.resolverSocketBufferBytes, (messages, peers) => {
      for (let i = 0; i < messages.length; i++) {
        const msg = messages[i]!;
        if (msg.length < 12) continue;
        const id = msg.readUInt16BE(0);
        const waiting = entry.pending.get(id);
        // Off-path datagrams (another source, an ID nobody waits for) are ignored, as with node:dgram.
        if (!waiting || peers[i] !== waiting.peer) continue;
        entry.pending.delete(id);
        waiting.resolve(msg);
      }
      this.closeIfIdle(entry);
      return [];
    }, true);
    return entry;
  }

  private closeIfIdle(entry: ClientSocket): void {
    if (entry.retired && !entry.closed && entry.pending.size === 0 && entry.outbox.length === 0) {
      entry.closed = true;
      entry.socket.close();
    }
  }
}
