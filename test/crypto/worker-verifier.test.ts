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

  it('shares a lone set out over idle threads, and gives a set asked while they are busy to one thread whole', async () => {
    const pool = new WorkerSignatureVerifier({ workers: 2 });
    try {
      const es512 = (await checks(400, 17)).filter((c) => c.key.alg === 'ES512');
      assert.ok(es512.length >= 60);
      const verifyAll = (cs: Check[]) => Promise.all(cs.map((c) => pool.verify(c.key.publicKey, c.data, c.signature)));
      const turn = () => new Promise((resolve) => setImmediate(resolve));
      const sent = () => pool.sentPerThread().reduce((a, s) => ({ messages: a.messages + s.messages, checks: a.checks + s.checks }), { messages: 0, checks: 0 });
      // One group of three on an idle pool: in parallel, two to one thread and one to the other.
      await verifyAll(es512.slice(0, 3));
      assert.deepEqual(pool.sentPerThread().map((s) => s.checks).sort(), [1, 2]);
      // A burst (20 checks) keeps both threads busy; a group asked in the next turn (before any answer can be read:
      // no poll phase runs between the two) goes whole, as one message, to one thread.
      const burst = verifyAll(es512.slice(3, 23));
      await turn();
      const before = pool.sentPerThread();
      assert.ok(before.every((s) => s.checks > 2), `burst shared out: ${JSON.stringify(before)}`);
      const group = verifyAll(es512.slice(23, 26));
      await turn();
      const added = pool.sentPerThread().map((s, i) => s.checks - before[i]!.checks);
      assert.deepEqual(added.sort(), [0, 3]);
      assert.equal(pool.sentPerThread().reduce((n, s, i) => n + s.messages - before[i]!.messages, 0), 1);
      await Promise.all([burst, group]);
      // A group larger than CryptoLimits.maxGroupOnOneThread is cut in two messages even while the threads are busy.
      const burst2 = verifyAll(es512.slice(0, 20));
      await turn();
      const before2 = sent();
      const big = verifyAll(es512.slice(20, 20 + CryptoLimits.maxGroupOnOneThread + 2));
      await turn();
      assert.deepEqual(sent(), { messages: before2.messages + 2, checks: before2.checks + CryptoLimits.maxGroupOnOneThread + 2 });
      await Promise.all([burst2, big]);
    } finally {
      await pool.close();
    }
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
