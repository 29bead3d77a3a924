/**
 * A signature-verification thread of WorkerSignatureVerifier (./worker-signature-verifier.ts): answers batches of
 * signature checks with the synchronous verifier (ES512 through the system libcrypto when the native module is
 * built, node:crypto otherwise), keeping imported keys by thumbprint for the thread's life. Parsing, the chain logic
 * and the signature cache stay on the calling thread; only bytes and keys come here.
 */
import { parentPort } from 'node:worker_threads';
import { createNodeSignatureVerifier } from './node-signature-verifier.js';
import type { PublicKey } from '../core/tokens/keys.js';
import type { SignatureBatch, SignatureBatchResult, WorkerKey } from './worker-signature-verifier.js';

const verifier = createNodeSignatureVerifier();
// Only alg, jwk and jwsKid travel (WorkerKey): that is all the node verifier reads of a key.
const asKey = (k: WorkerKey) => k as PublicKey;
const port = parentPort!;

port.on('message', async (batch: SignatureBatch) => {
  const meta = new Uint32Array(batch.meta);
  const bytes = new Uint8Array(batch.bytes);
  const n = meta.length / 3;
  const results = new Uint8Array(n);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const key = asKey(batch.keys[meta[3 * i]!]!);
    const dataEnd = offset + meta[3 * i + 1]!;
    const signatureEnd = dataEnd + meta[3 * i + 2]!;
    // The verifier never throws (anything wrong is `false`) and answers synchronously underneath.
    results[i] = (await verifier.verify(key, bytes.subarray(offset, dataEnd), bytes.subarray(dataEnd, signatureEnd))) ? 1 : 0;
    offset = signatureEnd;
  }
  port.postMessage({ id: batch.id, results: results.buffer } satisfies SignatureBatchResult, [results.buffer]);
});
