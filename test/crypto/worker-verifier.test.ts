/**
 * The worker-thread signature verifier (issue 14 target 3) answers exactly as the synchronous verifier: random
 * valid and mutated signatures of every algorithm, many in flight at once (so batches mix keys, algorithms and
 * lengths), and checks in flight when the threads stop are answered on the calling thread.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { SignatureAlgorithm } from '../../src/core/tokens/algorithms.js';
import { createNodeSignatureVerifier } from '../../src/crypto/node-signature-verifier.js';
import { WorkerSignatureVerifier } from '../../src/crypto/worker-signature-verifier.js';
import { CryptoLimits } from '../../src/crypto/limits.js';
import type { SigningKey } from '../../src/core/tokens/sign.js';
import { makeKeys, rawSign } from '../helpers/tokens.js';

interface Check {
  key: SigningKey;
  data: Uint8Array;
  signature: Uint8Array;
}

/**
 * `count` checks over two keys per algorithm: a quarter genuine, the rest mutated (bit flip, other key, other data,
 * short signature, empty data), chosen by index so that a failure reproduces.
 */
async function checks(count: number, seed: number): Promise<Check[]> {
  let state = seed;
  const random = () => (state = (state * 48271) % 2147483647) / 2147483647; // Park-Miller: reproducible, good enough here
  const keys: SigningKey[] = [];
  for (const alg of ['ES512', 'ES256', 'ES384', 'EdDSA'] as SignatureAlgorithm[]) keys.push(...(await makeKeys(2, alg)));
  const signed = await Promise.all(
    Array.from({ length: 24 }, async (_, i) => {
      const key = keys[i % keys.length]!;
      const data = Uint8Array.from({ length: 1 + Math.floor(random() * 1500) }, () => Math.floor(random() * 256));
      return { key, data, signature: await rawSign(key, data) };
    }),
  );
  return Array.from({ length: count }, () => {
    const base = signed[Math.floor(random() * signed.length)]!;
    let { key, data, signature } = base;
    const mutation = Math.floor(random() * 8);
    if (mutation === 1) {
      signature = signature.slice();
      signature[Math.floor(random() * signature.length)]! ^= 1 << Math.floor(random() * 8);
    } else if (mutation === 2) key = keys.find((k) => k.alg === key.alg && k !== key)!;
    else if (mutation === 3) data = Uint8Array.from([...data, 0]);
    else if (mutation === 4) signature = signature.subarray(0, Math.floor(random() * signature.length));
    else if (mutation === 5) data = new Uint8Array(0);
    return { key, data, signature };
  });
}

describe('worker-thread signature verifier', () => {
  const reference = createNodeSignatureVerifier();
  const workers = new WorkerSignatureVerifier({ workers: 2 });
  after(() => workers.close());

  it('answers as the synchronous verifier over 1,000 random valid and invalid signatures, all in flight at once', async () => {
    const all = await checks(1_000, 14);
    const expected = await Promise.all(all.map((c) => reference.verify(c.key.publicKey, c.data, c.signature)));
    const got = await Promise.all(all.map((c) => workers.verify(c.key.publicKey, c.data, c.signature)));
    assert.deepEqual(got, expected);
    const valid = expected.filter(Boolean).length;
    assert.ok(valid > 100 && valid < 900, `${valid} valid of 1000`);
  });

  it('answers checks asked one at a time, and a data view inside a larger buffer', async () => {
    const all = await checks(40, 15);
    for (const c of all) {
      const padded = new Uint8Array(c.data.length + 10);
      padded.set(c.data, 5);
      const view = padded.subarray(5, 5 + c.data.length);
      assert.equal(await workers.verify(c.key.publicKey, view, c.signature), await reference.verify(c.key.publicKey, c.data, c.signature));
    }
  });

  it('splits a burst larger than one batch over the threads, with the same answers', async () => {
    const all = await checks(CryptoLimits.maxBatch * 5 + 3, 16);
    const expected = await Promise.all(all.map((c) => reference.verify(c.key.publicKey, c.data, c.signature)));
    assert.deepEqual(await Promise.all(all.map((c) => workers.verify(c.key.publicKey, c.data, c.signature))), expected);
  });

  it('answers checks in flight when its threads stop on the calling thread, and every later one there too', async () => {
    const pool = new WorkerSignatureVerifier({ workers: 2 });
    const all = await checks(200, 17);
    const expected = await Promise.all(all.map((c) => reference.verify(c.key.publicKey, c.data, c.signature)));
    const first = all.slice(0, 100).map((c) => pool.verify(c.key.publicKey, c.data, c.signature));
    await new Promise((resolve) => setImmediate(resolve)); // the first hundred are on their way to the threads
    await pool.close();
    const rest = all.slice(100).map((c) => pool.verify(c.key.publicKey, c.data, c.signature));
    assert.deepEqual(await Promise.all([...first, ...rest]), expected);
  });
});
