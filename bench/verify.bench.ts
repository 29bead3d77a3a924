import { createVerify, createPublicKey, createSign, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from './suites.js';
import { parseMaterialText, verifyMaterial, skipCommitmentCheck, createSignatureCache, type Material } from '../src/core/index.js';

const SHARED = fileURLToPath(new URL('../../shared/interop/', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

/** Runs `fn` repeatedly for about SECONDS (at least `min` times) and returns operations per second. */
async function rate(fn: () => Promise<unknown> | unknown, min = 20): Promise<number> {
  for (let i = 0; i < 5; i++) await fn(); // warm-up: JIT, key import cache
  const start = performance.now();
  let n = 0;
  while (n < min || performance.now() - start < SECONDS * 1000) {
    await fn();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

/** Raw ES512 verify with node:crypto, synchronously on one core: the floor any verifier pays per token. */
function rawEs512Rate(): Promise<number> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-521' });
  const data = Buffer.alloc(700, 1);
  const signature = createSign('sha512').update(data).sign({ key: privateKey, dsaEncoding: 'ieee-p1363' });
  const key = createPublicKey(publicKey.export({ format: 'pem', type: 'spki' }));
  return rate(() => {
    if (!createVerify('sha512').update(data).verify({ key, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('bad');
  }, 200);
}

const SETS: Array<{ name: string; file: string; at: string }> = [
  { name: 'emblem.felixlinker.de (3 tokens)', file: 'dns/emblem.felixlinker.de.txt', at: '2026-06-17T00:10:00Z' },
  { name: 'emblem.redcross.org.uk (3 tokens)', file: 'dns/emblem.redcross.org.uk.txt', at: '2026-06-17T00:10:00Z' },
  { name: 'cyberstar.online (2 tokens)', file: 'dns/cyberstar.online.txt', at: '2026-06-17T00:10:00Z' },
];

const suite: BenchSuite = {
  name: 'verify (core engine, commitment skipped)',
  async run() {
    const raw = await rawEs512Rate();
    console.log(`raw ES512 verify (node:crypto, 1 core):           ${raw.toFixed(0)} verifies/s`);
    for (const set of SETS) {
      const { material } = parseMaterialText(readFileSync(SHARED + set.file, 'utf8'));
      const tokens = material.filter((m: Material) => m.kind === 'jws' || m.kind === 'cwt').length;
      const now = new Date(set.at);
      const check = async (cache?: ReturnType<typeof createSignatureCache>) => {
        const r = await verifyMaterial(material, { now, commitments: skipCommitmentCheck, cache });
        if (r.result[0] === 'INVALID') throw new Error(`${set.name} did not verify`);
      };
      // Cold: no signature cache, every token's signature is checked (imported keys are cached by thumbprint).
      const cold = await rate(() => check());
      const inFlight = await rate(() => Promise.all([check(), check(), check(), check()]).then(() => undefined));
      const warmCache = createSignatureCache();
      const warm = await rate(() => check(warmCache), 200);
      const target = raw / (1.1 * tokens);
      console.log(`${set.name.padEnd(36)} cold ${cold.toFixed(0).padStart(5)} sets/s  ` +
        `(= ${((raw / tokens) / cold).toFixed(2)}x raw cost per token; target <= 1.10x, i.e. >= ${target.toFixed(0)} sets/s: ${cold >= target ? 'MET' : 'MISSED'})`);
      console.log(`${''.padEnd(36)} 4 in flight ${(inFlight * 4).toFixed(0)} sets/s; warm signature cache ${warm.toFixed(0)} sets/s (${(warm / cold).toFixed(1)}x cold)`);
    }
  },
};

export default suite;
