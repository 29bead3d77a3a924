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
 * signature cache, and sends only the checks. The checks asked within one turn of the event loop are shared out evenly
 * over the threads, one message per thread (buffers transferred, not copied), least busy thread first: one set's
 * signatures are checked in parallel, and several sets in flight keep every thread busy while the calling thread
 * parses the next.
 *
 * Threads start at the first check and do not keep the process alive while idle. A thread that dies is replaced
 * (up to CryptoLimits.maxRestarts); its unanswered checks, and every check after the pool gives up, are verified on
 * the calling thread instead, with the same answers.
 */
export class WorkerSignatureVerifier implements SignatureVerifier {
  readonly workers: number;
  private readonly slots: Slot[] = [];
  private pending: Check[] = [];
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
      this.pending.push({ key, data, signature, resolve });
      if (this.pending.length >= CryptoLimits.maxBatch) this.flush();
      else if (!this.flushQueued) {
        this.flushQueued = true;
        // After the current job's synchronous part and its microtasks: a set's Promise.all over its tokens has then
        // asked for every signature.
        setImmediate(() => this.flush());
      }
    });
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
    // The turn's checks are shared out evenly: all of them to one thread would leave the others idle while 8 sets
    // in flight wait on one batch (measured: 1.2x instead of the machine's 1.9x on two cores).
    const share = Math.ceil(this.pending.length / this.workers);
    while (this.pending.length > 0) {
      const checks = this.takeBatch(share);
      const slot = this.leastBusy();
      if (!slot) {
        this.inline(checks);
        continue;
      }
      this.send(slot, checks);
    }
  }

  /** Up to `share` checks (at most maxBatch) and maxBatchBytes of bytes (at least one check). */
  private takeBatch(share: number): Check[] {
    let bytes = 0;
    let n = 0;
    while (n < this.pending.length && n < Math.min(share, CryptoLimits.maxBatch)) {
      const c = this.pending[n]!;
      const size = c.data.byteLength + c.signature.byteLength;
      if (n > 0 && bytes + size > CryptoLimits.maxBatchBytes) break;
      bytes += size;
      n++;
    }
    return this.pending.splice(0, n);
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
    const slot: Slot = { worker, batches: new Map(), outstanding: 0 };
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
