import { existsSync } from 'node:fs';
/**
 * The signature fast paths (issue 14) change speed, never answers: SPKI DER key import vs JWK import, the
 * thread-pool (WebCrypto) verifier vs the synchronous node:crypto one vs the core's browser default, over many
 * valid and invalid sets in both eras; and each fast path's environment switch really turns it off.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { base64urlDecode, base64urlEncode } from '../../src/core/encoding.js';
import { parseMaterialText } from '../../src/core/material/parse-text.js';
import type { Material } from '../../src/core/material/material.js';
import { parsePublicJwk, webCryptoSignatureVerifier, type SignatureVerifier } from '../../src/core/tokens/keys.js';
import type { SignatureAlgorithm } from '../../src/core/tokens/algorithms.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { createNodeSignatureVerifier, nodeSha256 } from '../../src/crypto/node-signature-verifier.js';
import { threadPoolSignatureVerifier } from '../../src/crypto/thread-pool-signature-verifier.js';
import { WorkerSignatureVerifier } from '../../src/crypto/worker-signature-verifier.js';
import { SHARED } from '../helpers/cli.js';
import { AUTHORITY, cwtOrgChain, DAY, jwsOrgChain, makeKeys, NOW, verify } from '../helpers/tokens.js';

const workers = new WorkerSignatureVerifier({ workers: 2 });
after(() => workers.close());

const VERIFIERS: Array<[string, SignatureVerifier]> = [
  ['node:crypto, SPKI import', createNodeSignatureVerifier(true)],
  ['node:crypto, JWK import', createNodeSignatureVerifier(false)],
  ['thread pool', threadPoolSignatureVerifier],
  ['worker threads', workers],
  ['WebCrypto (core default)', webCryptoSignatureVerifier],
];

/** Flips one bit of a JWS signature or of the last byte of a CWT. */
function tamper(item: Material): Material {
  if (item.kind === 'jws') {
    const [h, p, s] = item.text.split('.');
    const sig = base64urlDecode(s!);
    sig[sig.length >> 1]! ^= 1;
    return { kind: 'jws', text: `${h}.${p}.${base64urlEncode(sig)}` };
  }
  if (item.kind === 'cwt') {
    const bytes = item.bytes.slice();
    bytes[bytes.length - 1]! ^= 1;
    return { kind: 'cwt', bytes };
  }
  return item;
}

async function sets(): Promise<Array<{ name: string; material: Material[]; now?: Date }>> {
  const out: Array<{ name: string; material: Material[]; now?: Date }> = [];
  const algs: SignatureAlgorithm[] = ['ES512', 'ES256', 'ES384', 'EdDSA'];
  for (const alg of algs) {
    const [emblem, root, authority] = await makeKeys(3, alg);
    const k = { emblem: emblem!, root: root!, authority: authority! };
    for (const [era, chain] of [['jws', jwsOrgChain], ['cwt', cwtOrgChain]] as const) {
      const valid = await chain(k, { external: { iss: AUTHORITY } });
      out.push({ name: `${alg} ${era} valid`, material: valid });
      out.push({ name: `${alg} ${era} expired`, material: valid, now: new Date(NOW.getTime() + 400 * DAY * 1000) });
      for (let i = 0; i < 3; i++) {
        out.push({ name: `${alg} ${era} token ${i} tampered`, material: valid.map((m, j) => (j === i ? tamper(m) : m)) });
      }
      out.push({ name: `${alg} ${era} keys missing`, material: valid.filter((m) => m.kind !== 'jwk') });
    }
  }
  const shared = join(SHARED, 'interop', 'dns') + '/';
  for (const file of ['emblem.felixlinker.de.txt', 'emblem.redcross.org.uk.txt', 'cyberstar.online.txt']) {
    try {
      const { material } = parseMaterialText(readFileSync(shared + file, 'utf8'));
      out.push({ name: `live ${file}`, material, now: new Date('2026-06-17T00:10:00Z') });
      out.push({ name: `live ${file} tampered`, material: material.map((m, j) => (j === 0 ? tamper(m) : m)), now: new Date('2026-06-17T00:10:00Z') });
    } catch {
      // the shared interop files are outside the repository; the generated sets cover both eras without them
    }
  }
  return out;
}

describe('signature fast paths give identical reports', () => {
  it('every verifier, over valid and invalid sets of every algorithm and both eras', async () => {
    const all = await sets();
    assert.ok(all.length >= 48, `${all.length} sets`);
    let invalid = 0;
    for (const set of all) {
      const reports = [];
      for (const [, verifier] of VERIFIERS) reports.push(await verify(set.material, { verifier, ...(set.now ? { now: set.now } : {}) }));
      if (reports[0]!.result[0] === 'INVALID') invalid++;
      for (let i = 1; i < reports.length; i++) assert.deepEqual(reports[i], reports[0], `${set.name}: ${VERIFIERS[i]![0]} differs from ${VERIFIERS[0]![0]}`);
    }
    assert.ok(invalid >= all.length / 2, `expected many invalid sets, got ${invalid} of ${all.length}`);
  });

  for (const [name, verifier] of [['thread pool', threadPoolSignatureVerifier], ['worker threads', workers]] as const) {
    it(`every set in flight at once on the ${name} gives the reports one at a time gives`, async () => {
      const all = await sets();
      const sequential = [];
      for (const set of all) sequential.push(await verify(set.material, { ...(set.now ? { now: set.now } : {}) }));
      const concurrent = await Promise.all(all.map((set) => verify(set.material, { verifier, ...(set.now ? { now: set.now } : {}) })));
      assert.deepEqual(concurrent, sequential);
    });
  }

  it('a point off the curve never verifies, whichever way it is imported', async () => {
    const [key] = await makeKeys(1, 'ES512');
    const jwk = { ...key!.publicKey.jwk };
    const y = base64urlDecode(jwk.y!);
    y[y.length - 1]! ^= 1;
    const offCurve = parsePublicJwk({ ...jwk, y: base64urlEncode(y) });
    const data = new Uint8Array(100).fill(7);
    const signature = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-512' }, key!.cryptoKey!, data));
    for (const [name, verifier] of VERIFIERS) {
      assert.equal(await verifier.verify(key!.publicKey, data, signature), true, `${name}: genuine key`);
      assert.equal(await verifier.verify(offCurve, data, signature), false, `${name}: off-curve key`);
      assert.equal(await verifier.verify(key!.publicKey, data, signature.subarray(1)), false, `${name}: short signature`);
    }
  });
});

describe('node:crypto SHA-256 in the core', () => {
  it('gives the pure-JS digest, as a plain Uint8Array, for inputs of every length up to 300 bytes', () => {
    for (let n = 0; n <= 300; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 255);
      const fast = nodeSha256(data);
      assert.equal(Object.getPrototypeOf(fast), Uint8Array.prototype);
      assert.deepEqual(fast, nobleSha256(data));
    }
  });
});

describe('each fast path can be forced off', () => {
  const child = fileURLToPath(new URL('./fast-path-child.ts', import.meta.url));
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, EMBLEM_NO_SPKI_IMPORT: '', EMBLEM_NO_ASYNC_VERIFY: '', EMBLEM_NO_NODE_HASH: '', EMBLEM_NATIVE_ES512: '', EMBLEM_NO_VERIFY_WORKERS: '', ...env }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { nodeHash: boolean; spki: boolean; async: boolean; threadPoolIsNode: boolean; asyncKind: string; native: boolean; reports: unknown[] };
  };
  it('EMBLEM_NO_SPKI_IMPORT=1, EMBLEM_NO_ASYNC_VERIFY=1, EMBLEM_NO_VERIFY_WORKERS=1 and EMBLEM_NO_NODE_HASH=1 switch their path off and change no report', () => {
    const on = run({});
    assert.deepEqual([on.nodeHash, on.spki, on.async, on.threadPoolIsNode, on.asyncKind], [true, true, true, false, 'workers']);
    const noHash = run({ EMBLEM_NO_NODE_HASH: '1' });
    assert.deepEqual([noHash.nodeHash, noHash.spki], [false, true]);
    assert.deepEqual(noHash.reports, on.reports);
    const noSpki = run({ EMBLEM_NO_SPKI_IMPORT: '1' });
    assert.deepEqual([noSpki.spki, noSpki.async], [false, true]);
    const noAsync = run({ EMBLEM_NO_ASYNC_VERIFY: '1' });
    assert.deepEqual([noAsync.spki, noAsync.async, noAsync.threadPoolIsNode, noAsync.asyncKind], [true, false, true, 'sync']);
    const noWorkers = run({ EMBLEM_NO_VERIFY_WORKERS: '1' });
    assert.equal(noWorkers.asyncKind, 'thread-pool');
    assert.deepEqual(noWorkers.reports, on.reports);
    assert.ok(on.reports.length >= 4);
    assert.deepEqual(noSpki.reports, on.reports);
    assert.deepEqual(noAsync.reports, on.reports);
  });
  it('EMBLEM_NATIVE_ES512=0 switches the system-libcrypto ES512 verifier off and changes no report', () => {
    const on = run({});
    const off = run({ EMBLEM_NATIVE_ES512: '0' });
    assert.equal(off.native, false);
    // Built wherever the OpenSSL headers were present at install (CI installs libssl-dev).
    assert.equal(on.native, existsSync(fileURLToPath(new URL('../../build/Release/es512_verify.node', import.meta.url))));
    assert.deepEqual(off.reports, on.reports);
  });
});
