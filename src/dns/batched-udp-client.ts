import { isIPv6 } from 'node:net';
import { batchedUdp, type BatchedUdpSocket } from './batched-udp-socket.js';
import { DnsLimits } from './limits.js';
import { SocketRotation, type UdpExchanger, type UdpPoolOptions } from './udp-socket-pool.js';

/**
 * One query from send() to its answer: the only object a query allocates besides its message and its promise. It
 * is at once the pending entry (by ID, per socket), the outbox item and the deadline queue item.
 */
interface Query {
  entry: ClientSocket;
  id: number;
  host: string;
  port: number;
  /** The peer the answer must come from, as the native module prints it ("1.2.3.4:53", "[::1]:53"). */
  peer: string;
  message: Buffer;
  /** Deadline on performance.now()'s clock; Infinity when the caller keeps the time itself. */
  at: number;
  /** Settled (answered, timed out, failed) or cancelled: nothing more happens to it. */
  done: boolean;
  resolve(message: Buffer): void;
  reject(err: Error): void;
}

interface ClientSocket {
  socket: BatchedUdpSocket;
  pending: Map<number, Query>;
  outbox: Query[];
  /** In the pool's list of sockets with queries to send. */
  queued: boolean;
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

/** Largest batch the native module sends with one sendmmsg (its BATCH). */
const NATIVE_BATCH = 64;
/** Destinations whose family and peer string are remembered: a scan asks one resolver, `system` at most three. */
const DESTINATION_CACHE = 64;

/**
 * The resolver client's UDP sockets, served by the native module (native/udp_batch.c): queries asked during one
 * turn of the event loop leave together with one sendmmsg per socket, and answers arrive in batches of up to 64 per
 * recvmmsg. Same contract and same safety rules as UdpSocketPool (node:dgram): answers must come from exactly the
 * address asked and carry the query's ID; sockets are retired after `maxQueriesPerSocket` queries so the source
 * port keeps changing. Only the number of system calls (and the work per query) differs.
 */
export class BatchedUdpClientPool implements UdpExchanger {
  private readonly rotation: SocketRotation<ClientSocket>;
  private readonly destinations = new Map<string, { family: 'udp4' | 'udp6'; peer: string }>();
  private flushScheduled = false;
  private dirty: ClientSocket[] = [];
  /**
   * Deadlines per timeout length, each queue in deadline order (same length, later asked = later deadline), with
   * one timer for the earliest of them: no timer and no extra promise per query.
   */
  private readonly deadlines = new Map<number, { queue: Query[]; head: number }>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  /** Queries with a deadline that are still waiting: while there are none, the timer is unref'd (a finished
   *  command exits at once instead of waiting for the last deadline). */
  private timed = 0;

  constructor(
    private readonly native: NonNullable<ReturnType<typeof batchedUdp>>,
    options: UdpPoolOptions = { socketsPerFamily: DnsLimits.resolverSocketsPerFamily, maxQueriesPerSocket: DnsLimits.resolverQueriesPerSocket },
  ) {
    this.rotation = new SocketRotation(options, (family) => this.open(family));
  }

  /** As UdpSocketPool.send; with `timeoutMs`, the answer rejects with UdpQueryTimeout when no answer came in time. */
  send(host: string, port: number, query: Buffer, timeoutMs?: number): { answer: Promise<Buffer>; cancel(): void } {
    let q!: Query;
    const answer = new Promise<Buffer>((resolve, reject) => {
      q = this.enqueue(host, port, query, timeoutMs, resolve, reject);
    });
    return { answer, cancel: () => this.cancel(q) };
  }

  /**
   * The resolver's path: like send() with a deadline, but nothing to cancel. The promise settles exactly once, with
   * the answer, UdpQueryTimeout, or the socket's error; the query is forgotten when it does.
   */
  ask(host: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.enqueue(host, port, query, timeoutMs, resolve, reject);
    });
  }

  private enqueue(host: string, port: number, message: Buffer, timeoutMs: number | undefined, resolve: (m: Buffer) => void, reject: (e: Error) => void): Query {
    const id = message.readUInt16BE(0);
    const destination = this.destination(host, port);
    const entry = this.rotation.socketFor(destination.family, id);
    const q: Query = { entry, id, host, port, peer: destination.peer, message, at: Infinity, done: false, resolve, reject };
    entry.pending.set(id, q);
    entry.outbox.push(q);
    if (timeoutMs !== undefined) {
      q.at = performance.now() + timeoutMs;
      if (this.timed++ === 0) this.timer?.ref();
      this.addDeadline(timeoutMs, q);
    }
    this.toFlush(entry);
    return q;
  }

  private destination(host: string, port: number): { family: 'udp4' | 'udp6'; peer: string } {
    const key = `${host}|${port}`;
    let d = this.destinations.get(key);
    if (!d) {
      if (this.destinations.size >= DESTINATION_CACHE) this.destinations.clear();
      const v6 = isIPv6(host);
      d = { family: v6 ? 'udp6' : 'udp4', peer: v6 ? `[${host}]:${port}` : `${host}:${port}` };
      this.destinations.set(key, d);
    }
    return d;
  }

  /** Marks a query finished and forgets it: its socket's pending entry, its share of the timer's reference. */
  private finish(q: Query): void {
    q.done = true;
    if (q.entry.pending.get(q.id) === q) q.entry.pending.delete(q.id);
    if (q.at !== Infinity && --this.timed === 0) this.timer?.unref();
  }

  private cancel(q: Query): void {
    if (q.done) return;
    this.finish(q);
    this.closeIfIdle(q.entry);
  }

  /** Lists the socket among those with queries to send, and makes sure a flush runs after this turn. */
  private toFlush(entry: ClientSocket): void {
    if (!entry.queued) {
      entry.queued = true;
      this.dirty.push(entry);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends every queued query, a batch per destination and socket; what the kernel did not take waits a turn. */
  private flush(): void {
    this.flushScheduled = false;
    const sockets = this.dirty;
    this.dirty = [];
    for (const entry of sockets) {
      entry.queued = false;
      const queue = entry.outbox;
      entry.outbox = [];
      let i = 0;
      while (i < queue.length) {
        const first = queue[i]!;
        const messages: Buffer[] = [];
        let j = i;
        while (j < queue.length && messages.length < NATIVE_BATCH && queue[j]!.host === first.host && queue[j]!.port === first.port) {
          // A query cancelled or settled before it left (its caller timed out or gave up) is not sent.
          if (!queue[j]!.done) messages.push(queue[j]!.message);
          j++;
        }
        let sent = 0;
        if (messages.length > 0) {
          try {
            sent = entry.socket.send(messages, first.host, first.port);
          } catch (err) {
            this.failAll(entry, err instanceof Error ? err : new Error(String(err)));
            break;
          }
        }
        if (sent < messages.length) {
          // The kernel's send buffer is full: the unsent queries (in order) wait for the next turn.
          const unsent: Query[] = [];
          for (let k = i; k < j; k++) if (!queue[k]!.done) unsent.push(queue[k]!);
          entry.outbox = unsent.slice(sent).concat(queue.slice(j), entry.outbox);
          this.toFlush(entry);
          break;
        }
        i = j;
      }
    }
  }

  private addDeadline(timeoutMs: number, q: Query): void {
    let d = this.deadlines.get(timeoutMs);
    if (!d) this.deadlines.set(timeoutMs, (d = { queue: [], head: 0 }));
    d.queue.push(q);
    if (q.at < this.timerAt) this.arm(q.at);
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
    for (const [length, d] of this.deadlines) {
      // Settled queries leave the front of the queue without waiting for their deadline.
      while (d.head < d.queue.length && (d.queue[d.head]!.done || d.queue[d.head]!.at <= now)) {
        const q = d.queue[d.head++]!;
        if (!q.done) {
          this.finish(q);
          q.reject(new UdpQueryTimeout());
          this.closeIfIdle(q.entry);
        }
      }
      if (d.head === d.queue.length) this.deadlines.delete(length);
      else {
        // Drop the expired prefix now and then, so a long scan's queue does not grow without bound.
        if (d.head > 4096) {
          d.queue = d.queue.slice(d.head);
          d.head = 0;
        }
        next = Math.min(next, d.queue[d.head]!.at);
      }
    }
    if (next !== Infinity) this.arm(next);
  }

  private failAll(entry: ClientSocket, err: Error): void {
    entry.retired = true;
    const waiting = [...entry.pending.values()];
    entry.outbox = [];
    for (const q of waiting) {
      this.finish(q);
      q.reject(err);
    }
    this.closeIfIdle(entry);
  }

  private open(family: 'udp4' | 'udp6'): ClientSocket {
    const entry = { pending: new Map(), outbox: [], queued: false, used: 0, retired: false, closed: false } as unknown as ClientSocket;
    const ipv6 = family === 'udp6';
    entry.socket = this.native.open(ipv6 ? '::' : '0.0.0.0', 0, ipv6, DnsLimits.resolverSocketBufferBytes, (batch, ends, peers) => {
      let start = 0;
      for (let i = 0; i < ends.length; i++) {
        const end = ends[i]!;
        const from = start;
        start = end;
        if (end - from < 12) continue;
        const q = entry.pending.get((batch[from]! << 8) | batch[from + 1]!);
        // Off-path datagrams (another source, an ID nobody waits for) are ignored, as with node:dgram.
        if (!q || peers[i] !== q.peer) continue;
        this.finish(q);
        q.resolve(batch.subarray(from, end));
      }
      this.closeIfIdle(entry);
    }, true);
    return entry;
  }

  /** Closes a retired socket once nothing waits on it (every query not yet settled is in `pending`, sent or not;
   *  what is left in its outbox is settled and flush() skips it). */
  private closeIfIdle(entry: ClientSocket): void {
    if (entry.retired && !entry.closed && entry.pending.size === 0) {
      entry.closed = true;
      entry.socket.close();
    }
  }
}
