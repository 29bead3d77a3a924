import { spawnSync } from 'node:child_process';
import { createSign, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BenchSuite } from './suites.js';
import { freshEcKeyPair } from '../test/helpers/fresh-key-pair.js';
import { BENCH_SECONDS, measure, type Measurement } from './measure.js';
import { installNodeSignatureVerifier, nodeHashEnabled, nodeSignatureVerifier, spkiImportEnabled } from '../src/crypto/node-signature-verifier.js';
import { asyncVerifyEnabled, threadPoolSignatureVerifier } from '../src/crypto/thread-pool-signature-verifier.js';
import { asyncSignatureVerifier, verifyWorkersEnabled, WorkerSignatureVerifier } from '../src/crypto/worker-signature-verifier.js';
import { nativeEs512 } from '../src/native/es512.js';
import { generateSigningKey, signJws, type SigningKey } from '../src/core/tokens/sign.js';
import type { SignatureVerifier } from '../src/core/tokens/keys.js';
import { parseMaterialText, verifyMaterial, skipCommitmentCheck, createSignatureCache, type SignatureCache } from '../src/core/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The live sets (shared/interop next to the repository; EMBLEM_SHARED_DIR overrides, e.g. from a worktree). */
const SHARED = process.env.EMBLEM_SHARED_DIR ?? fileURLToPath(new URL('../../shared/', import.meta.url));
const verdict = (met: boolean) => (met ? 'MET' : 'MISSED');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Raw ES512 verify with node:crypto, synchronously on one core: the floor any verifier pays per token. */
function rawEs512Verify(): () => void {
  const { privateKey, publicKey: key } = freshEcKeyPair('P-521');
  const data = Buffer.alloc(1200, 1); // about the signing input of a live token
  const signature = createSign('sha512').update(data).sign({ key: privateKey, dsaEncoding: 'ieee-p1363' });
  return () => {
    if (!verify('sha512', data, { key, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('bad signature');
  };
}

export function rawEs512(): Promise<Measurement> {
  return measure(rawEs512Verify(), 200);
}

const ROUNDS = 9;
const IN_WINDOW = new Date('2026-06-17T00:10:00Z');
const GENERATED_NOW = new Date('2026-11-01T12:00:00Z');

/** Verifies one set from its TXT text (parse included: that is what a validator does with a fresh answer). */
async function verifyText(text: string, now: Date, cache?: SignatureCache, verifier?: SignatureVerifier): Promise<void> {
  const { material, errors } = parseMaterialText(text, 'bench');
  const r = await verifyMaterial(material, { now, commitments: skipCommitmentCheck, inputErrors: errors, ...(cache ? { cache } : {}), ...(verifier ? { verifier } : {}) });
  if (r.result[0] === 'INVALID') throw new Error(`set did not verify: ${JSON.stringify(r.errors)}`);
}

/**
 * A set shaped like the live ones: three ES512 tokens (emblem, the organisation's root endorsement with `log`, an
 * authority's endorsement of the root key), each naming its key by kid, and the three keys as adem-key records.
 * Every set has keys of its own, so verifying it is a first contact.
 */
async function freshSet(): Promise<string> {
  const [emblem, root, authority] = (await Promise.all([0, 1, 2].map(() => generateSigningKey('ES512')))).map((k) => k.key) as [SigningKey, SigningKey, SigningKey];
  const t = GENERATED_NOW.getTime() / 1000;
  const times = { iat: t - 86_400, nbf: t - 86_400, exp: t + 30 * 86_400 };
  const log = [{ ver: 'v1' as const, id: new Uint8Array(32).fill(1), hash: new Uint8Array(32).fill(2) }];
  const org = 'https://org.example';
  const tokens = [
    await signJws('emblem', { iss: org, ...times, assets: ['example.org'], purposes: ['protective'] }, emblem),
    await signJws('endorsement', { iss: org, sub: org, ...times, endorse: emblem.publicKey, end: true, log }, root),
    await signJws('endorsement', { iss: 'https://authority.example', sub: org, ...times, endorse: root.publicKey, end: true, log }, authority),
  ];
  return [...tokens.map((x) => `adem-token=${x}`), ...[emblem, root, authority].map((k) => `adem-key=${JSON.stringify(k.publicKey.jwk)}`)].join('\n');
}

/** CPU time per call of `fn` over `n` calls. */
async function cpuPer(n: number, fn: (i: number) => Promise<void> | void): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn(i);
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

/**
 * The cost ratio, robust against the machine's drift: the CPU time of one raw verify swings by a third between
 * runs here (shared cores, frequency changes), so raw and sets are measured in short alternating rounds and the
 * median of the per-round ratios is reported.
 */
async function medianRatio(raw: () => void, rounds: number, setCpu: (round: number) => Promise<{ micros: number; tokens: number }>): Promise<number> {
  return (await medianRatios([raw], rounds, setCpu))[0]!;
}

/** medianRatio against several raw verifies at once (each sampled right after the set in every round). */
async function medianRatios(raws: Array<() => void>, rounds: number, setCpu: (round: number) => Promise<{ micros: number; tokens: number }>): Promise<number[]> {
  const ratios: number[][] = raws.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const s = await setCpu(r);
    for (const [i, raw] of raws.entries()) ratios[i]!.push(s.micros / (s.tokens * ((await cpuPer(s.tokens, raw)) / s.tokens)));
  }
  return ratios.map(median);
}

/**
 * Raw ES512 verify with the native module (system libcrypto), one key imported once, or null when it is not in use:
 * the verifier's own backend, printed beside the unit (node:crypto) so the overhead over the backend is visible too.
 */
function rawNativeEs512Verify(): (() => void) | null {
  const native = nativeEs512();
  if (!native) return null;
  const { privateKey, publicKey } = freshEcKeyPair('P-521');
  const jwk = publicKey.export({ format: 'jwk' });
  const key = native.importKey(Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url'));
  const data = Buffer.alloc(1200, 1);
  const signature = createSign('sha512').update(data).sign({ key: privateKey, dsaEncoding: 'ieee-p1363' });
  return () => {
    if (!native.verify(key, data, signature)) throw new Error('bad signature');
  };
}

/** Verifies `sets` (cycled) for about `seconds`, `inFlight` at a time; sets per wall second. */
async function rate(sets: string[], inFlight: number, seconds: number, verifier: SignatureVerifier): Promise<number> {
  let next = 0;
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  const lane = async () => {
    while (performance.now() < end) {
      await verifyText(sets[next++ % sets.length]!, GENERATED_NOW, undefined, verifier);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return (done * 1000) / (performance.now() - start);
}

/**
 * Raw ES512 verifies per second summed over `threads` worker threads, each verifying for `seconds`: with the native
 * module (system libcrypto) when `native`, else node:crypto. What the machine's cores deliver together right now.
 */
async function rawThreads(threads: number, seconds: number, native: boolean): Promise<number> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createPublicKey, createSign, generateKeyPairSync, verify } = require('node:crypto');
    const { privateKey, publicKey: jwk } = generateKeyPairSync('ec', { namedCurve: 'P-521', publicKeyEncoding: { format: 'jwk' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    const data = Buffer.alloc(1200, 1);
    const sig = createSign('sha512').update(data).sign({ key: privateKey, dsaEncoding: 'ieee-p1363' });
    let check = () => verify('sha512', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig);
    if (workerData.native) {
      const native = require(workerData.native);
      const handle = native.importKey(Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url'));
      check = () => native.verify(handle, data, sig);
    }
    parentPort.once('message', () => {
      let n = 0; const end = Date.now() + workerData.seconds * 1000;
      while (Date.now() < end) { if (!check()) throw new Error('bad signature'); n++; }
      parentPort.postMessage(n / workerData.seconds);
    });
    parentPort.postMessage('ready');`;
  const workerData = { seconds, native: native ? ROOT + 'build/Release/es512_verify.node' : null };
  // Plain CommonJS: the threads need none of tsx's loader hooks that `node --import tsx` would pass on.
  const workers = Array.from({ length: threads }, () => new Worker(code, { eval: true, execArgv: [], workerData }));
  await Promise.all(workers.map((w) => new Promise((ok) => w.once('message', ok))));
  const results = workers.map((w) => new Promise<number>((ok) => w.once('message', ok)));
  for (const w of workers) w.postMessage('go');
  const perSecond = (await Promise.all(results)).reduce((a, b) => a + b, 0);
  await Promise.all(workers.map((w) => w.terminate()));
  return perSecond;
}

/**
 * Median wall milliseconds of `verify` (the bundled CLI), of the same with EMBLEM_NO_CLI_BUNDLE=1 (the modules as tsc
 * compiled them) and of `node -e ''`, spawned in turn `runs` times after one warm-up each.
 */
function startUp(runs: number, file: string): { verify: number; unbundled: number; empty: number } | null {
  const cli = ROOT + 'dist/cli/main.js';
  if (!existsSync(cli)) return null;
  const verifyArgs = [cli, 'verify', '--skip-commitment-check', '--at', IN_WINDOW.toISOString(), file];
  const time = (args: string[], env: NodeJS.ProcessEnv = process.env) => {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore', env });
    if (r.status !== 0 && args.length > 2) throw new Error(`emblem verify exited ${r.status}`);
    return performance.now() - t;
  };
  const bundled = { ...process.env, EMBLEM_NO_CLI_BUNDLE: undefined };
  const unbundledEnv = { ...process.env, EMBLEM_NO_CLI_BUNDLE: '1' };
  time(verifyArgs, bundled);
  time(verifyArgs, unbundledEnv);
  time(['-e', '']);
  const v: number[] = [];
  const u: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < runs; i++) {
    v.push(time(verifyArgs, bundled));
    u.push(time(verifyArgs, unbundledEnv));
    e.push(time(['-e', '']));
  }
  return { verify: median(v), unbundled: median(u), empty: median(e) };
}

const LIVE: Array<{ name: string; file: string }> = [
  { name: 'emblem.felixlinker.de (3 tokens)', file: 'interop/dns/emblem.felixlinker.de.txt' },
  { name: 'emblem.redcross.org.uk (3 tokens)', file: 'interop/dns/emblem.redcross.org.uk.txt' },
  { name: 'cyberstar.online (2 tokens)', file: 'interop/dns/cyberstar.online.txt' },
];

const suite: BenchSuite = {
  name: 'verify (core engine, commitment skipped)',
  async run() {
    installNodeSignatureVerifier();
    const rawVerify = rawEs512Verify();
    const raw = await measure(rawVerify, 200);
    console.log(`raw ES512 verify, node:crypto, 1 core: ${raw.perSecond.toFixed(0)} verifies/s (${raw.cpuMicros.toFixed(0)} µs CPU each)`);
    console.log(`fast paths: SPKI key import ${spkiImportEnabled ? 'on' : 'OFF (EMBLEM_NO_SPKI_IMPORT=1)'}, node:crypto SHA-256 ${nodeHashEnabled ? 'on' : 'OFF (EMBLEM_NO_NODE_HASH=1)'}, async verify ${asyncVerifyEnabled ? 'on' : 'OFF (EMBLEM_NO_ASYNC_VERIFY=1)'}, verify worker threads ${verifyWorkersEnabled ? 'on' : 'OFF (EMBLEM_NO_VERIFY_WORKERS=1)'}, native ES512 ${nativeEs512() ? 'on' : 'OFF (not built or EMBLEM_NATIVE_ES512=0)'}`);
    console.log('each row: CPU per token of verifying a set from its TXT text (parse included), as a ratio to one raw ES512 verify; median of interleaved rounds');

    // Target 1, first contact: every round verifies sets whose keys and tokens this process has never seen.
    const perRound = 6;
    const fresh: string[] = [];
    for (let i = 0; i < (ROUNDS + 1) * perRound; i++) fresh.push(await freshSet());
    await verifyText(fresh.pop()!, GENERATED_NOW); // JIT warm-up on a set never used again
    let used = 0;
    const rawNative = rawNativeEs512Verify();
    const [first, firstNative] = await medianRatios(rawNative ? [rawVerify, rawNative] : [rawVerify], ROUNDS, async () => {
      const batch = fresh.slice(used, used + perRound);
      used += perRound;
      return { micros: await cpuPer(batch.length, (i) => verifyText(batch[i]!, GENERATED_NOW)), tokens: batch.length * 3 };
    });
    // Repeat: the same sets again (keys imported, every signature verified again); warm: with a signature cache.
    const seen = fresh.slice(0, perRound * 2);
    const repeat = await medianRatio(rawVerify, ROUNDS, async () => ({ micros: await cpuPer(seen.length, (i) => verifyText(seen[i]!, GENERATED_NOW)), tokens: seen.length * 3 }));
    const cache = createSignatureCache();
    for (const s of seen) await verifyText(s, GENERATED_NOW, cache);
    const warm = await medianRatio(rawVerify, ROUNDS, async () => ({ micros: await cpuPer(seen.length, (i) => verifyText(seen[i]!, GENERATED_NOW, cache)), tokens: seen.length * 3 }));
    console.log(`first contact (new keys and tokens every round, 3-token ES512 sets): ${first!.toFixed(2)}x raw per token (target <= 1.15x: ${verdict(first! <= 1.15)})` +
      (firstNative !== undefined ? `; = ${firstNative.toFixed(2)}x a raw verify of the verifier's own backend (native ES512), context, not the target's unit` : ''));
    console.log(`repeat (same sets again, keys already imported, no signature cache):  ${repeat.toFixed(2)}x raw per token`);
    console.log(`warm (signature cache hit for every token):                           ${warm.toFixed(3)}x raw per token`);

    for (const set of LIVE) {
      let text: string;
      try {
        text = readFileSync(SHARED + set.file, 'utf8');
      } catch {
        console.log(`${set.name}: skipped (${SHARED + set.file} not found; set EMBLEM_SHARED_DIR)`);
        continue;
      }
      const tokens = parseMaterialText(text).material.filter((m) => m.kind === 'jws' || m.kind === 'cwt').length;
      const liveRepeat = await medianRatio(rawVerify, ROUNDS, async () => ({ micros: await cpuPer(10, () => verifyText(text, IN_WINDOW)), tokens: 10 * tokens }));
      const liveCache = createSignatureCache();
      const w = await measure(() => verifyText(text, IN_WINDOW, liveCache), 200);
      console.log(`live ${set.name.padEnd(34)} repeat ${liveRepeat.toFixed(2)}x raw per token; warm ${w.perSecond.toFixed(0)} sets/s`);
    }

    // Target 3, concurrency: the public API's asynchronous path (`threadPool: true`), 8 sets in flight vs one at a
    // time, sets per wall-clock second on this machine's cores; rounds interleaved, medians.
    const seconds = Math.max(1, BENCH_SECONDS);
    const pool = fresh.slice(0, 16);
    const asyncVerifier = asyncSignatureVerifier();
    const asyncName = asyncVerifier instanceof WorkerSignatureVerifier ? `${asyncVerifier.workers} worker threads` : asyncVerifier === threadPoolSignatureVerifier ? 'WebCrypto on the libuv pool' : 'synchronous (EMBLEM_NO_ASYNC_VERIFY=1)';
    await rate(pool, 8, 0.3, asyncVerifier); // starts the threads, imports the keys
    await rate(pool, 8, 0.3, threadPoolSignatureVerifier);
    const one: number[] = [];
    const eight: number[] = [];
    const syncOne: number[] = [];
    const webEight: number[] = [];
    for (let i = 0; i < 3; i++) {
      one.push(await rate(pool, 1, seconds / 2, asyncVerifier));
      eight.push(await rate(pool, 8, seconds / 2, asyncVerifier));
      syncOne.push(await rate(pool, 1, seconds / 2, nodeSignatureVerifier));
      webEight.push(await rate(pool, 8, seconds / 2, threadPoolSignatureVerifier));
    }
    const [r1, r8, s1, w8] = [median(one), median(eight), median(syncOne), median(webEight)];
    // The ceiling: raw ES512 on one thread vs two, with the backend the verifier uses, in this run.
    const native = nativeEs512() !== null;
    const t1 = await rawThreads(1, seconds / 2, native);
    const t2 = await rawThreads(2, seconds / 2, native);
    const backend = native ? `native ES512 (${nativeEs512()!.libraryVersion})` : 'node:crypto ES512';
    console.log(`concurrency, public async path (threadPool: true -> ${asyncName}), 3-token ES512 sets, sets per WALL second on ${availableParallelism()} cores, median of 3 interleaved rounds:`);
    console.log(`  8 in flight ${r8.toFixed(0)} sets/s vs 1 in flight ${r1.toFixed(0)} sets/s on the same path = ${(r8 / r1).toFixed(2)}x (target >= 1.8x: ${verdict(r8 / r1 >= 1.8)})`);
    console.log(`  8 in flight async vs synchronous verifier one at a time (${s1.toFixed(0)} sets/s, one core): ${(r8 / s1).toFixed(2)}x  <- what a library user gains`);
    console.log(`  the machine's own scaling in this run: raw ${backend} ${t1.toFixed(0)}/s on 1 thread, ${t2.toFixed(0)}/s on 2 = ${(t2 / t1).toFixed(2)}x (the ceiling for the row above)`);
    console.log(`  for comparison: WebCrypto thread-pool path (EMBLEM_NO_VERIFY_WORKERS=1), 8 in flight ${w8.toFixed(0)} sets/s`);
    if (asyncVerifier instanceof WorkerSignatureVerifier) await asyncVerifier.close();

    // Target 2, start-up: the CLI's verify against an empty node, spawned in turn.
    const live = SHARED + LIVE[0]!.file;
    const s = existsSync(live) ? startUp(15, live) : null;
    if (!s) console.log('start-up: skipped (needs `npm run build` and the live set)');
    else {
      const diff = s.verify - s.empty;
      console.log(
        `start-up: \`emblem verify --skip-commitment-check\` median ${s.verify.toFixed(0)} ms wall, \`node -e ''\` ${s.empty.toFixed(0)} ms, ` +
          `difference ${diff.toFixed(0)} ms (target <= 100 ms: ${verdict(diff <= 100)}; 15 runs each, interleaved); ` +
          `unbundled (EMBLEM_NO_CLI_BUNDLE=1) ${s.unbundled.toFixed(0)} ms, difference ${(s.unbundled - s.empty).toFixed(0)} ms`,
      );
    }
  },
};

export default suite;
