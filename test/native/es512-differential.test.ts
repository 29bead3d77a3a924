// Issue 14 target 6: the native ES512 verifier (system libcrypto) answers exactly as node:crypto over 10,000
// random valid and invalid signatures.
import assert from 'node:assert/strict';
import { createPublicKey, createSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { nativeEs512 } from '../../src/native/es512.js';
import { freshEcKeyPair } from '../helpers/fresh-key-pair.js';

const native = nativeEs512();
const switchedOff = process.env.EMBLEM_NATIVE_ES512 === '0';
// CI installs libssl-dev, so there the module must exist unless the run switched it off on purpose.
if (!native && !switchedOff && process.env.CI === 'true') throw new Error('native ES512 module not built on CI (npm run install; libssl-dev?)');
const skipReason = native ? false : switchedOff ? 'switched off (EMBLEM_NATIVE_ES512=0)' : 'native ES512 module not built';

/** A deterministic generator (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('native ES512 and node:crypto agree on 10,000 valid and invalid signatures', { skip: skipReason }, () => {
  const random = prng(14);
  const keys = Array.from({ length: 4 }, () => freshEcKeyPair('P-521'));
  const handles = keys.map((k) => {
    const jwk = k.publicKey.export({ format: 'jwk' });
    return native!.importKey(Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url'));
  });
  // A few signatures really made, then mutated: signing 10,000 times would take too long for a unit test.
  const messages = Array.from({ length: 25 }, (_, i) => Buffer.from(`message ${i} ${'x'.repeat(i * 7)}`));
  const signed = messages.map((m, i) => ({
    m,
    k: i % keys.length,
    sig: createSign('sha512').update(m).sign({ key: keys[i % keys.length]!.privateKey, dsaEncoding: 'ieee-p1363' }),
  }));
  const nodeKeys: KeyObject[] = keys.map((k) => createPublicKey(k.publicKey.export({ format: 'pem', type: 'spki' })));
  let valid = 0;
  const seen = new Map<string, boolean>();
  for (let i = 0; i < 10_000; i++) {
    const base = signed[Math.floor(random() * signed.length)]!;
    let m = base.m;
    let sig = Buffer.from(base.sig);
    let k = base.k;
    const mutation = Math.floor(random() * 8);
    if (mutation === 1) {
      const at = Math.floor(random() * sig.length);
      sig[at] = sig[at]! ^ (1 << Math.floor(random() * 8));
    }
    else if (mutation === 2) m = Buffer.concat([m, Buffer.from([Math.floor(random() * 256)])]);
    else if (mutation === 3) k = (k + 1) % keys.length;
    else if (mutation === 4) sig = sig.subarray(0, Math.floor(random() * sig.length));
    else if (mutation === 5) sig = Buffer.alloc(132, random() < 0.5 ? 0 : 0xff);
    else if (mutation === 6) sig = Buffer.concat([sig.subarray(0, 66), Buffer.alloc(66)]);
    // node:crypto's answer for an input already seen is reused (repeats are common: unchanged or re-keyed
    // signatures), which keeps the test to seconds; the native verifier is asked every time.
    const id = `${k}:${m.toString('hex')}:${sig.toString('hex')}`;
    let expected = seen.get(id);
    if (expected === undefined) seen.set(id, (expected = nodeVerify('sha512', m, { key: nodeKeys[k]!, dsaEncoding: 'ieee-p1363' }, sig)));
    const got = native!.verify(handles[k]!, m, sig);
    assert.equal(got, expected, `case ${i} (mutation ${mutation})`);
    if (expected) valid++;
  }
  assert.ok(valid > 1_000 && valid < 9_000, `a mix of valid and invalid: ${valid} valid`);
});

test('a point not on P-521 is refused at import', { skip: skipReason }, () => {
  assert.throws(() => native!.importKey(Buffer.alloc(66, 1), Buffer.alloc(66, 2)), /P-521/);
  assert.throws(() => native!.importKey(Buffer.alloc(65), Buffer.alloc(66)), TypeError);
});

test('import accepts exactly the keys node:crypto accepts: genuine, one bit off, a coordinate plus p', { skip: skipReason }, () => {
  // P-521's field prime 2^521 - 1: x + p encodes the same residue, but is not a canonical coordinate.
  const p = (1n << 521n) - 1n;
  const bytes = (n: bigint) => Buffer.from(n.toString(16).padStart(132, '0'), 'hex');
  const cases: Array<[Buffer, Buffer]> = [];
  for (let i = 0; i < 8; i++) {
    const jwk = freshEcKeyPair('P-521').publicKey.export({ format: 'jwk' });
    const x = Buffer.from(jwk.x!, 'base64url');
    const y = Buffer.from(jwk.y!, 'base64url');
    const flipped = Buffer.from(y);
    flipped[65 - i]! ^= 1 << i;
    cases.push([x, y], [x, flipped]);
    const xp = BigInt(`0x${x.toString('hex')}`) + p;
    if (xp < 1n << 528n) cases.push([bytes(xp), y]);
  }
  let accepted = 0;
  for (const [x, y] of cases) {
    let byNode = true;
    try {
      createPublicKey({ key: Buffer.concat([Buffer.from('30819b301006072a8648ce3d020106052b810400230381860004', 'hex'), x, y]), format: 'der', type: 'spki' });
    } catch {
      byNode = false;
    }
    let byNative = true;
    try {
      native!.importKey(x, y);
    } catch {
      byNative = false;
    }
    assert.equal(byNative, byNode, `x ${x.toString('hex').slice(0, 16)}…, y ${y.toString('hex').slice(0, 16)}…`);
    if (byNode) accepted++;
  }
  assert.equal(accepted, 8, 'the genuine keys, and only they');
});
