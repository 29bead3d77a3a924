import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { PublicKey, SignatureVerifier } from '../core/tokens/keys.js';
import { CryptoLimits } from './limits.js';
import { startModuleWorker } from './module-worker.js';
import { nodeSignatureVerifier } from './node-signature-verifier.js';
import { asyncVerifyEnabled, threadPoolSignatureVerifier } from './thread-pool-signature-verifier.js';

/** What a signature thread needs of a key: the verifier imports it from the coordinates and caches it by thumbprint. */
export type WorkerKey = Pick<PublicKey, 'alg' | 'jwk' | 'jwsKid'>;

/**
 * Main thread -> signature thread: `meta` holds three numbers per check (index into `keys`, data length, signature
 * length); `bytes` the data and signature of each check, one after the other. Both buffers are transferred.
 */
export interface SignatureBatch {
  id: number;
  keys: WorkerKey[];
  meta: ArrayBuffer;
  bytes: ArrayBuffer;
}

/** Signature thread -> main thread: one byte per check, 1 when the signature verifies. Transferred. */
export interface SignatureBatchResult {
  id: number;
  results: ArrayBuffer;
}

interface Check {
  key: PublicKey;
  data: Uint8Array;
  signature: Uint8Array;
  resolve: (valid: boolean) => void;
}

interface Slot {
  worker: Worker;
  /** Checks sent and not yet answered, by batch id. */
  batches: Map<number, Check[]>;
  outstanding: number;
  /** Messages and checks sent to this thread since it started. */
  sent: { messages: number; checks: number };
}

/**
 * EMBLEM_NO_VERIFY_WORKERS=1: the asynchronous verification path (`threadPool: true`) uses node's WebCrypto on
 * libuv's thread pool instead of worker threads running the synchronous verifier. Same answers. Read once.
 */
export const verifyWorkersEnabled = process.env.EMBLEM_NO_VERIFY_WORKERS !== '1';

/** Threads of the shared pool: EMBLEM_VERIFY_WORKERS, else one per core. */
export function defaultVerifyWorkers(): number {
  const n = Number(process.env.EMBLEM_VERIFY_WORKERS);
  return Number.isInteger(n) && n > 0 ? Math.min(n, CryptoLimits.maxWorkers) : availableParallelism();
}

/**
 * Verifies signatures on worker threads, each running the synchronous verifier (ES512 through the system libcrypto
 * when the native module is built, node:crypto otherwise): the calling thread keeps parsing, the chain logic and the
 * signature cache, and sends only the checks, their bytes packed into one transferred buffer per message.
 *
 * Checks asked together (in one synchronous run: a set's Promise.all over its tokens) form a group. A group goes
 * whole, as one message, to the least busy thread: with several sets in flight every thread stays busy and each set
 * costs one message and one answer. When at least two threads are idle, the group is shared out over them instead
 * (one set alone: its signatures are checked in parallel, the lowest latency), and so is a group of more than
 * CryptoLimits.maxGroupOnOneThread checks. Measured on two cores with 3-token sets: giving every group to one thread
 * left the other idle (1.21x for 8 in flight vs 1); sharing every group out cost ~20 % of the throughput with 8 in
 * flight (two messages and answers per set, and a set done only when its slower half is); see docs/performance.md.
 *
 * Threads start at the first check and do not keep the process alive while idle. A thread that dies is replaced
 * (up to CryptoLimits.maxRestarts); its unanswered checks, and every check after the pool gives up, are verified on
 * the calling thread instead, with the same answers.
 */
export class WorkerSignatureVerifier implements SignatureVerifier {
  readonly workers: number;
  private readonly slots: Slot[] = [];
  /** Groups of checks asked and not yet sent; the last one is still open while `groupOpen`. */
  private groups: Check[][] = [];
  private queued = 0;
  private groupOpen = false;
  private flushQueued = false;
  private nextBatch = 0;
  private restarts = 0;
  private closed = false;

  constructor(options: { workers?: number } = {}) {
    this.workers = Math.max(1, Math.min(options.workers ?? defaultVerifyWorkers(), CryptoLimits.maxWorkers));
  }

  verify(key: PublicKey, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (this.closed) return nodeSignatureVerifier.verify(key, data, signature);
    return new Promise((resolve) => {
      let group = this.groupOpen ? this.groups[this.groups.length - 1] : undefined;
      if (!group) {
        group = [];
        this.groups.push(group);
        if (!this.groupOpen) {
          this.groupOpen = true;
          // The group closes when the synchronous run that asks it ends: a set asks all its checks in one run.
          queueMicrotask(() => (this.groupOpen = false));
        }
      }
      group.push({ key, data, signature, resolve });
      if (++this.queued >= CryptoLimits.maxBatch) this.flush();
      else if (!this.flushQueued) {
        this.flushQueued = true;
        // After the current job's synchronous part and its microtasks: every set resumed in this turn has asked.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Messages and checks sent to each running thread so far (for tests and diagnostics: how work was shared out). */
  sentPerThread(): Array<{ messages: number; checks: number }> {
    return this.slots.map((s) => ({ ...s.sent }));
  }

  /** Stops the threads; later checks run on the calling thread. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const s of slots) for (const checks of s.batches.values()) this.inline(checks);
  }

  private flush(): void {
    this.flushQueued = false;
    const groups = this.groups;
    this.groups = [];
    this.queued = 0;
    for (const group of groups) this.dispatch(group);
  }

  /** One group: whole to the least busy thread, or shared out (see the class comment). */
  private dispatch(group: Check[]): void {
    this.leastBusy(); // starts the threads
    const idle = this.slots.reduce((n, s) => n + (s.outstanding === 0 ? 1 : 0), 0);
    const ways = idle >= 2 ? idle : group.length > CryptoLimits.maxGroupOnOneThread ? this.slots.length : 1;
    const share = Math.ceil(group.length / Math.max(1, ways));
    let at = 0;
    while (at < group.length) {
      const n = this.batchLength(group, at, share);
      const checks = group.slice(at, at + n);
      at += n;
      const slot = this.leastBusy();
      if (slot) this.send(slot, checks);
      else this.inline(checks);
    }
  }

  /** How many checks from `at` go in one message: up to `share` (at most maxBatch) and maxBatchBytes (at least one). */
  private batchLength(group: Check[], at: number, share: number): number {
    let bytes = 0;
    let n = 0;
    while (at + n < group.length && n < Math.min(share, CryptoLimits.maxBatch)) {
      const c = group[at + n]!;
      const size = c.data.byteLength + c.signature.byteLength;
      if (n > 0 && bytes + size > CryptoLimits.maxBatchBytes) break;
      bytes += size;
      n++;
    }
    return n;
  }

  private leastBusy(): Slot | null {
    if (this.closed) return null;
    while (this.slots.length < this.workers) {
      const slot = this.start();
      if (!slot) break;
      this.slots.push(slot);
    }
    let best: Slot | null = null;
    for (const s of this.slots) if (!best || s.outstanding < best.outstanding) best = s;
    return best;
  }

  private send(slot: Slot, checks: Check[]): void {
    const keys: WorkerKey[] = [];
    const keyIndex = new Map<string, number>();
    const meta = new Uint32Array(checks.length * 3);
    let total = 0;
    for (const c of checks) total += c.data.byteLength + c.signature.byteLength;
    const bytes = new Uint8Array(total);
    let offset = 0;
    checks.forEach((c, i) => {
      let k = keyIndex.get(c.key.jwsKid);
      if (k === undefined) {
        k = keys.length;
        keyIndex.set(c.key.jwsKid, k);
        keys.push({ alg: c.key.alg, jwk: c.key.jwk, jwsKid: c.key.jwsKid });
      }
      meta[3 * i] = k;
      meta[3 * i + 1] = c.data.byteLength;
      meta[3 * i + 2] = c.signature.byteLength;
      bytes.set(c.data, offset);
      bytes.set(c.signature, offset + c.data.byteLength);
      offset += c.data.byteLength + c.signature.byteLength;
    });
    const id = this.nextBatch++;
    slot.batches.set(id, checks);
    if (slot.outstanding === 0) slot.worker.ref();
    slot.outstanding += checks.length;
    slot.sent.messages++;
    slot.sent.checks += checks.length;
    slot.worker.postMessage({ id, keys, meta: meta.buffer, bytes: bytes.buffer } satisfies SignatureBatch, [meta.buffer, bytes.buffer]);
  }

  private start(): Slot | null {
    if (this.restarts > CryptoLimits.maxRestarts) return null;
    let worker: Worker;
    try {
      worker = startModuleWorker(import.meta.url, './signature-worker');
    } catch {
      this.restarts++;
      return null;
    }
    const slot: Slot = { worker, batches: new Map(), outstanding: 0, sent: { messages: 0, checks: 0 } };
    worker.on('message', (m: SignatureBatchResult) => {
      const checks = slot.batches.get(m.id);
      if (!checks) return;
      slot.batches.delete(m.id);
      slot.outstanding -= checks.length;
      if (slot.outstanding === 0) slot.worker.unref();
      const results = new Uint8Array(m.results);
      checks.forEach((c, i) => c.resolve(results[i] === 1));
    });
    const fail = () => {
      const i = this.slots.indexOf(slot);
      if (i === -1) return;
      this.slots.splice(i, 1);
      this.restarts++;
      for (const checks of slot.batches.values()) this.inline(checks);
      slot.batches.clear();
      slot.outstanding = 0;
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    return slot;
  }

  /** The same checks on the calling thread (a thread died, or none could start). */
  private inline(checks: Check[]): void {
    for (const c of checks) void nodeSignatureVerifier.verify(c.key, c.data, c.signature).then(c.resolve);
  }
}

let shared: WorkerSignatureVerifier | undefined;

/**
 * The verifier behind the public API's asynchronous path (`threadPool: true`): one process-wide
 * WorkerSignatureVerifier (threads started at the first check); with EMBLEM_NO_VERIFY_WORKERS=1 the WebCrypto
 * thread-pool verifier; with EMBLEM_NO_ASYNC_VERIFY=1 the synchronous verifier on the calling thread.
 */
export function asyncSignatureVerifier(): SignatureVerifier {
  if (!asyncVerifyEnabled) return nodeSignatureVerifier;
  if (!verifyWorkersEnabled) return threadPoolSignatureVerifier;
  return (shared ??= new WorkerSignatureVerifier());
}
