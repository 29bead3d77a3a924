import { createPublicKey, createSign, generateKeyPairSync, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from './suites.js';
import { BENCH_SECONDS, measure, type Measurement } from './measure.js';
import { installNodeSignatureVerifier } from '../src/crypto/node-signature-verifier.js';
import { useSignatureVerifier, webCryptoSignatureVerifier } from '../src/core/tokens/keys.js';
import { parseMaterialText, verifyMaterial, skipCommitmentCheck, createSignatureCache, type Material } from '../src/core/index.js';

const SHARED = fileURLToPath(new URL('../../shared/interop/', import.meta.url));

/** Raw ES512 verify with node:crypto, synchronously on one core: the floor any verifier pays per token. */
function rawEs512Verify(): () => void {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-521' });
  const data = Buffer.alloc(1200, 1); // about the signing input of a live token
  const signature = createSign('sha512').update(data).sign({ key: privateKey, dsaEncoding: 'ieee-p1363' });
  const key = createPublicKey(publicKey.export({ format: 'pem', type: 'spki' }));
  return () => {
    if (!verify('sha512', data, { key, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('bad signature');
  };
}

export function rawEs512(): Promise<Measurement> {
  return measure(rawEs512Verify(), 200);
}

const ROUNDS = 9;

/**
 * The cost ratio, robust against the machine's drift: the CPU time of one raw verify swings by a third between
 * runs here (shared cores, frequency changes), so raw and set are measured in short alternating rounds and the
 * median of the per-round ratios is reported.
 */
async function medianCostRatio(raw: () => void, set: () => Promise<void>, tokens: number): Promise<number> {
  const ratios: number[] = [];
  const seconds = Math.max(0.2, BENCH_SECONDS / 8);
  for (let i = 0; i < ROUNDS; i++) {
    const r = await measure(raw, 50, seconds);
    const s = await measure(set, 15, seconds);
    ratios.push(s.cpuMicros / (tokens * r.cpuMicros));
  }
  ratios.sort((a, b) => a - b);
  return ratios[Math.floor(ROUNDS / 2)]!;
}

const SETS: Array<{ name: string; file: string }> = [
  { name: 'emblem.felixlinker.de (3 tokens)', file: 'dns/emblem.felixlinker.de.txt' },
  { name: 'emblem.redcross.org.uk (3 tokens)', file: 'dns/emblem.redcross.org.uk.txt' },
  { name: 'cyberstar.online (2 tokens)', file: 'dns/cyberstar.online.txt' },
];
const IN_WINDOW = new Date('2026-06-17T00:10:00Z');

const suite: BenchSuite = {
  name: 'verify (core engine, live sets, commitment skipped)',
  async run() {
    const rawVerify = rawEs512Verify();
    const raw = await measure(rawVerify, 200);
    console.log(`raw ES512 verify, node:crypto, 1 core: ${raw.perSecond.toFixed(0)} verifies/s (${raw.cpuMicros.toFixed(0)} µs CPU each)`);
    console.log('target: cold verification of a set costs <= 1.10x one raw verify per token');
    const verifiers = [
      { name: 'node:crypto', install: () => installNodeSignatureVerifier() },
      { name: 'WebCrypto', install: () => useSignatureVerifier(webCryptoSignatureVerifier) },
    ];
    for (const verifier of verifiers) {
    verifier.install();
    console.log(`-- signature verifier: ${verifier.name}${verifier.name === 'node:crypto' ? ' (what the CLI uses)' : ' (the browser-safe default of the core)'}`);
    for (const set of SETS) {
      const { material } = parseMaterialText(readFileSync(SHARED + set.file, 'utf8'));
      const tokens = material.filter((m: Material) => m.kind === 'jws' || m.kind === 'cwt').length;
      const check = async (cache?: ReturnType<typeof createSignatureCache>) => {
        const r = await verifyMaterial(material, { now: IN_WINDOW, commitments: skipCommitmentCheck, cache });
        if (r.result[0] === 'INVALID') throw new Error(`${set.name} did not verify`);
      };
      // Cold: no signature cache, every token's signature is checked (imported keys are cached by thumbprint).
      const cold = await measure(() => check());
      const warmCache = createSignatureCache();
      const warm = await measure(() => check(warmCache), 200);
      const cpuRatio = await medianCostRatio(rawVerify, () => check(), tokens);
      const wallRatio = raw.perSecond / (tokens * cold.perSecond);
      console.log(
        `${set.name.padEnd(34)} cold ${cold.perSecond.toFixed(0).padStart(5)} sets/s, ${cold.cpuMicros.toFixed(0)} µs CPU/set = ` +
          `${cpuRatio.toFixed(2)}x raw per token (median of ${ROUNDS} interleaved rounds; ${cpuRatio <= 1.1 ? 'MET' : 'MISSED'}); wall-clock ${wallRatio.toFixed(2)}x raw per token; ` +
          `warm signature cache ${warm.perSecond.toFixed(0)} sets/s (${(warm.perSecond / cold.perSecond).toFixed(0)}x cold)`,
      );
    }
    }
    installNodeSignatureVerifier();
  },
};

export default suite;
