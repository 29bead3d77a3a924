/** Bounds of the signature-verification threads (src/crypto/worker-signature-verifier.ts). */
export const CryptoLimits = {
  /** Signature checks sent to a thread in one message. One message costs ~30-60 µs of postMessage and wake-up on
   *  each side; a P-521 verify ~400 µs with the system libcrypto. A batch is whatever asked within one turn of the
   *  event loop, capped here so that one burst of requests is spread over every thread instead of queueing on one. */
  maxBatch: 32,
  /** Bytes of signed data in one message: signing inputs are a few KB (DNS TXT answers), but a caller may pass
   *  anything; a larger item travels alone. Bounds the buffer allocated per message. */
  maxBatchBytes: 1024 * 1024,
  /** Checks asked together (one set's signatures) that go to one thread while the threads are busy; a larger group
   *  is spread over the threads so that it does not queue on one. */
  maxGroupOnOneThread: 8,
  /** Most threads a pool may start (the machine's cores are the useful number; this is a sanity cap). */
  maxWorkers: 64,
  /** Threads replaced after dying before the pool stops using threads and verifies on the calling thread: a thread
   *  that cannot start at all (broken installation) must not be respawned forever. */
  maxRestarts: 8,
} as const;
