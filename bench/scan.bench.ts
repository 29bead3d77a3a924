/**
 * `emblem scan` at scale (issue 5, acceptance 5): end-to-end throughput against a local authoritative server, peak
 * RSS for 100,000 and 1,000,000 targets, verification-only rate with warm caches against raw ES512, and the
 * speed-up from one to two verification threads. Loopback only; every loop is bounded.
 *
 * Sizes can be lowered for a quick look: BENCH_SCAN_NAMES (default 100000), BENCH_SCAN_BIG (default 1000000).
 */
import { spawn, spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { createSign, createVerify, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from './suites.js';
import type { Material } from '../src/core/material/material.js';
import { skipCommitmentCheck } from '../src/core/verify/commitment.js';
import { VerificationPool } from '../src/validator/verify-pool.js';
import { nativeEs512 } from '../src/native/es512.js';
import { buildScanWorld, SCAN_AT, type Category } from '../test/scan/scan-fixture.js';
import { distinctEmblemWorld, noEmblemWorld, readSets } from './scan-zone.js';
import { NOW } from '../test/helpers/tokens.js';
import { DnsLimits } from '../src/dns/limits.js';

const SOURCE_MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const BUILT_MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** Newest modification time under a directory (bounded walk of the source tree). */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

/**
 * The CLI as users run it: the build (dist/) when it is at least as new as src/, since RSS and speed are what the
 * installed command shows (tsx would add its compiler to every thread). Otherwise from source, with a warning.
 */
const USE_BUILD = existsSync(BUILT_MAIN) && statSync(BUILT_MAIN).mtimeMs >= newest(fileURLToPath(new URL('../src/', import.meta.url)));
const CLI_ARGS = USE_BUILD ? [BUILT_MAIN] : ['--import', 'tsx', SOURCE_MAIN];
const NAMES = Number(process.env.BENCH_SCAN_NAMES ?? 100_000);
const BIG = Number(process.env.BENCH_SCAN_BIG ?? 1_000_000);
/** "Most names carry no emblem": 90 % without, 10 % with emblem records of every kind. */
const MOSTLY_EMPTY: Record<Category, number> = { pj: 0.04, pc: 0.02, ex: 0.01, inv: 0.01, nc: 0.02, ne: 0.6, nx: 0.3 };

interface Summary {
  targets: number;
  seconds: number;
  peakRssBytes: number;
  byStatus: Record<string, number>;
  dnsQueries: number;
}

/** Runs the CLI (from source, like the rest of the bench) and returns its JSON summary. */
function cli(args: string[], stdin?: Readable, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_ARGS, ...args], { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (stdin) stdin.pipe(child.stdin!);
  });
}

function startServer(zones: string[]): Promise<{ address: string; stop: () => void }> {
  const child = spawn(process.execPath, [...CLI_ARGS, 'dns', 'serve', ...zones.flatMap((z) => ['--zone', z]), '--listen', '127.0.0.1:0', '--rrl-responses-per-second', '0', '--tcp-max-per-address', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ address: (JSON.parse(out.split('\n')[0]!) as { addresses: string[] }).addresses[0]!, stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`dns serve exited ${code}`)));
  });
}

/**
 * dnsperf (Debian) asking every question of `queryFile` once: what the server answers when the client costs
 * (almost) nothing. `sockets` and `inFlight` are set to what the scan uses (its resolver client's sockets per
 * family, one question in flight per target of --concurrency), on one thread like the scan's main thread.
 * Bounded by a kill timer.
 */
function dnsperfRate(address: string, queryFile: string, sockets: number, inFlight: number): number {
  const [host, port] = address.split(':') as [string, string];
  const r = spawnSync('dnsperf', ['-s', host, '-p', port, '-d', queryFile, '-n', '1', '-c', String(sockets), '-q', String(inFlight), '-T', '1', '-t', '2'], { encoding: 'utf8', timeout: 300_000 });
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(r.stdout ?? '')?.[1]);
  if (!qps) throw new Error(`dnsperf failed: ${r.stderr || r.stdout || String(r.error)}`);
  return qps;
}

function hasDnsperf(): boolean {
  return spawnSync('dnsperf', ['-h'], { stdio: 'ignore' }).error === undefined;
}

async function scan(args: string[], stdin?: Readable, env: NodeJS.ProcessEnv = {}): Promise<Summary> {
  const r = await cli(['scan', '--skip-commitment-check', '--at', SCAN_AT, '--no-progress', '--json', '--force', ...args], stdin, env);
  if (r.code !== 0) throw new Error(`scan failed (${r.code}): ${r.stderr.slice(-1000)}`);
  return JSON.parse(r.stdout) as Summary;
}

/** ZDNS lines for `count` names, generated lazily so neither the bench nor a file holds them: 10 % with emblem records. */
function zdnsStream(count: number, templates: Map<string, string>): Readable {
  let i = 0;
  return new Readable({
    read() {
      let chunk = '';
      while (i < count && chunk.length < 256 * 1024) {
        const kind = i % 10 === 0 ? 'pj' : i % 10 < 4 ? 'nx' : 'ne';
        chunk += `${templates.get(kind)!.replace('@NAME@', `n${i}.${kind}.test`)}\n`;
        i++;
      }
      this.push(chunk.length ? chunk : null);
    },
  });
}

/**
 * Raw ES512 verifies per second on this thread: with `native` (the system-libcrypto module, what the scan's
 * verifier uses when it is built) or, when null, node:crypto.
 */
function rawEs512Rate(seconds: number, native: { importKey(x: Buffer, y: Buffer): unknown; verify(k: unknown, d: Buffer, s: Buffer): boolean } | null): number {
  // The encodings come from the key generation itself: exporting a freshly generated key can deadlock node 20 (see
  // docs/performance.md, "A node 20 deadlock"). A P-521 SPKI ends with the point's x and y, 66 bytes each.
  const { privateKey, publicKey: spki } = generateKeyPairSync('ec', { namedCurve: 'P-521', publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const data = Buffer.alloc(700, 1);
  const signature = createSign('sha512').update(data).sign({ key: privateKey, dsaEncoding: 'ieee-p1363' });
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const handle = native?.importKey(spki.subarray(spki.length - 132, spki.length - 66), spki.subarray(spki.length - 66));
  const check = native ? () => native.verify(handle, data, signature) : () => createVerify('sha512').update(data).verify({ key, dsaEncoding: 'ieee-p1363' }, signature);
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < seconds * 1000) {
    if (!check()) throw new Error('bad');
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

/** The native ES512 module's file when it is built and not switched off (EMBLEM_NATIVE_ES512=0), else null. */
const NATIVE_ES512 = nativeEs512() ? fileURLToPath(new URL('../build/Release/es512_verify.node', import.meta.url)) : null;

/**
 * Raw ES512 verifies in `threads` threads at once, summed (native module when built, as the verifier): what the
 * machine itself delivers on the cores it gives this process right now.
 */
async function parallelRawEs512Rate(threads: number, seconds: number): Promise<number> {
  // rawEs512Rate itself, as source (the thread runs plain JavaScript: tsx's loader does not reach worker threads).
  const code = `const { parentPort, workerData } = require('node:worker_threads');
const { createSign, createVerify, createPublicKey, generateKeyPairSync } = require('node:crypto');
const rawEs512Rate = ${rawEs512Rate.toString()};
const native = workerData.native ? require(workerData.native) : null;
parentPort.once('message', () => parentPort.postMessage(rawEs512Rate(workerData.seconds, native)));
parentPort.postMessage('ready');`;
  const workers = Array.from({ length: threads }, () => new Worker(code, { eval: true, execArgv: [], workerData: { seconds, native: NATIVE_ES512 } }));
  try {
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
    const rates = workers.map((w) => new Promise<number>((resolve, reject) => (w.once('message', resolve), w.once('error', reject))));
    for (const w of workers) w.postMessage('go');
    return (await Promise.all(rates)).reduce((a, b) => a + b, 0);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * A long-lived child pinned to `cpus` cores (taskset) that verifies bursts of sets through the scan's thread pool on
 * command. Pinning makes "one core" mean one core (otherwise the pool's thread, the main thread and V8's helpers
 * spread over every core). The child is this file, started with EMBLEM_SCAN_BENCH_CHILD set; it answers each line of
 * stdin with one JSON line: `raw SECONDS` measures a raw ES512 verify on one thread with the verifier's backend
 * (native module when built), `raw-node SECONDS` with node:crypto, `raw-parallel SECONDS` (verifier's backend) in as
 * many threads as the pool has (what the pinned cores deliver together right now), `pool FROM TO` verifies
 * sets[FROM..TO) (each set once: a repeated emblem would hit the signature cache) and reports the elapsed time.
 */
class PinnedVerifier {
  private readonly child;
  private readonly lines: string[] = [];
  private waiting: { resolve: (line: string) => void; reject: (e: Error) => void } | null = null;

  constructor(cpus: string, workers: number, setsFile: string, warm: [number, number]) {
    this.child = spawn('taskset', ['-c', cpus, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, EMBLEM_SCAN_BENCH_CHILD: JSON.stringify({ workers, setsFile, warm }) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let buffered = '';
    this.child.stdout!.on('data', (d) => {
      buffered += d;
      let i;
      while ((i = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = null;
          w.resolve(line);
        } else this.lines.push(line);
      }
    });
    this.child.on('close', (code) => this.waiting?.reject(new Error(`verification child exited ${code}`)));
  }

  private next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.child.exitCode !== null) return Promise.reject(new Error(`verification child exited ${this.child.exitCode}`));
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /** Resolves once the child has started its pool and warmed every thread's caches. */
  ready(): Promise<string> {
    return this.next();
  }

  async command(line: string): Promise<number> {
    this.child.stdin!.write(`${line}\n`);
    return (JSON.parse(await this.next()) as { value: number }).value;
  }

  close(): void {
    this.child.stdin!.end();
  }
}

if (process.env.EMBLEM_SCAN_BENCH_CHILD) {
  const { workers, setsFile, warm } = JSON.parse(process.env.EMBLEM_SCAN_BENCH_CHILD) as { workers: number; setsFile: string; warm: [number, number] };
  const sets = JSON.parse(readFileSync(setsFile, 'utf8')) as Material[][];
  const pool = new VerificationPool({ workers, now: NOW, trustedKeys: [], policy: {}, commitments: skipCommitmentCheck });
  const run = async (from: number, to: number) => {
    let next = from;
    // Enough sets in flight that no thread waits for work between batches.
    await Promise.all(
      Array.from({ length: 64 * workers }, async () => {
        while (next < to) {
          const r = await pool.verify(sets[next++]!);
          if (r.result[0] === 'INVALID') throw new Error(`bench set did not verify: ${JSON.stringify(r.errors)}`);
        }
      }),
    );
  };
  // Warm every thread's caches (endorsement signatures, imported keys) and JIT with emblems that are not measured.
  await run(warm[0], warm[1]);
  process.stdout.write('ready\n');
  let input = '';
  for await (const chunk of process.stdin) {
    input += chunk;
    let i;
    while ((i = input.indexOf('\n')) !== -1) {
      const [cmd, a, b] = input.slice(0, i).split(' ');
      input = input.slice(i + 1);
      if (cmd === 'raw') process.stdout.write(`${JSON.stringify({ value: rawEs512Rate(Number(a), nativeEs512()) })}\n`);
      else if (cmd === 'raw-node') process.stdout.write(`${JSON.stringify({ value: rawEs512Rate(Number(a), null) })}\n`);
      else if (cmd === 'raw-parallel') process.stdout.write(`${JSON.stringify({ value: await parallelRawEs512Rate(workers, Number(a)) })}\n`);
      else {
        const start = performance.now();
        await run(Number(a), Number(b));
        process.stdout.write(`${JSON.stringify({ value: performance.now() - start })}\n`);
      }
    }
  }
  await pool.close();
  process.exit(0);
}

const verdict = (ok: boolean) => (ok ? 'MET' : 'MISSED');
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;

const suite: BenchSuite = {
  name: 'scan (emblem scan at scale)',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'emblem-scan-bench-'));
    try {
      console.log(`machine: ${availableParallelism()} cores; load average now ${loadavg().map((l) => l.toFixed(1)).join(' ')} (other processes share these cores)`);
      console.log(USE_BUILD ? 'CLI: dist/cli/main.js (the build)' : 'CLI: src via tsx (dist/ is missing or older than src/: run `npm run build` for representative RSS)');
      const only = process.env.BENCH_SCAN_ONLY; // e2e | rss | dns | es512 | distinct | verify: run one part (all by default)
      const wants = (part: string) => !only || only === part;
      const world = wants('e2e') || wants('rss') ? await buildScanWorld(dir, NAMES, MOSTLY_EMPTY, 5) : null;
      if (world && wants('e2e')) {
        // 1. End to end against the local server.
        const server = await startServer(world.zoneFiles);
        let e2e: Summary;
        try {
          e2e = await scan(['--input', world.inputFile, '--resolver', server.address, '--out', join(dir, 'e2e.csv'), '--output', 'csv', '--attempts', '4', '--timeout', '2000']);
        } finally {
          server.stop();
        }
        const rate = e2e.targets / e2e.seconds;
        console.log(`end to end, ${e2e.targets} names (90 % without emblem), local server: ${rate.toFixed(0)} targets/s ` +
          `(${e2e.dnsQueries} queries, ${e2e.seconds.toFixed(1)} s; target >= 5000/s: ${verdict(rate >= 5000)}); peak RSS ${mb(e2e.peakRssBytes)}`);

      }
      if (wants('dns')) {
        // Issue 14 target 5: the resolver client against what the server can answer. dnsperf asks exactly the questions
        // the scan asks (TXT, then IHLE for names that exist) of the same server, before and after the scans.
        const nw = await noEmblemWorld(NAMES);
        if (!hasDnsperf()) console.log('DNS client vs dnsperf: skipped (dnsperf is not installed)');
        else {
          const server = await startServer(nw.zoneFiles);
          try {
            const concurrency = process.env.BENCH_SCAN_DNS_CONCURRENCY ?? '100';
            const args = ['--input', nw.inputFile, '--resolver', server.address, '--out', join(dir, 'dns.csv'), '--output', 'csv', '--concurrency', concurrency];
            // dnsperf as the scan asks: as many sockets as the resolver client keeps per family, as many questions in
            // flight as targets in flight (a target has one question out at a time), one thread.
            const sockets = DnsLimits.resolverSocketsPerFamily;
            const inFlight = Number(concurrency);
            // Three rounds, dnsperf before and after each scan; each scan is compared with the mean of the two dnsperf
            // runs around it and the median of the three ratios is the verdict (one pair alone swung 0.42-0.58x
            // between runs on this shared 2-core machine).
            const perfs = [dnsperfRate(server.address, nw.queryFile!, sockets, inFlight)];
            const rounds: Array<{ targetsPerSecond: number; qps: number; ratio: number }> = [];
            for (let r = 0; r < 3; r++) {
              const batched = await scan(args, undefined, { EMBLEM_NO_BATCHED_RESOLVER: '' });
              if (batched.dnsQueries !== nw.queries) throw new Error(`scan asked ${batched.dnsQueries} questions, dnsperf ${nw.queries}`);
              perfs.push(dnsperfRate(server.address, nw.queryFile!, sockets, inFlight));
              const qps = batched.dnsQueries / batched.seconds;
              rounds.push({ targetsPerSecond: batched.targets / batched.seconds, qps, ratio: qps / ((perfs[r]! + perfs[r + 1]!) / 2) });
            }
            const dgram = await scan(args, undefined, { EMBLEM_NO_BATCHED_RESOLVER: '1' });
            perfs.push(dnsperfRate(server.address, nw.queryFile!, sockets, inFlight));
            if (dgram.dnsQueries !== nw.queries) throw new Error(`scan asked ${dgram.dnsQueries} questions, dnsperf ${nw.queries}`);
            const mid = [...rounds].sort((a, b) => a.ratio - b.ratio)[1]!;
            const dgramQps = dgram.dnsQueries / dgram.seconds;
            console.log(`DNS client, ${nw.total} names without emblem (60 % exist, 40 % NXDOMAIN; ${nw.queries} questions), --concurrency ${concurrency}:`);
            console.log(`  dnsperf against the same server and questions (-c ${sockets} -q ${inFlight} -T 1, as the scan), before and after each scan: ${perfs.map((p) => p.toFixed(0)).join(', ')} q/s`);
            console.log(`  emblem scan, batched UDP (sendmmsg/recvmmsg), 3 rounds: ${rounds.map((r) => `${r.qps.toFixed(0)} q/s = ${r.ratio.toFixed(2)}x`).join('; ')}`);
            console.log(`  median round: ${mid.targetsPerSecond.toFixed(0)} targets/s, ${mid.qps.toFixed(0)} q/s = ${mid.ratio.toFixed(2)}x dnsperf (target >= 0.5x: ${verdict(mid.ratio >= 0.5)})`);
            console.log(`  emblem scan, node:dgram (EMBLEM_NO_BATCHED_RESOLVER=1): ${(dgram.targets / dgram.seconds).toFixed(0)} targets/s, ${dgramQps.toFixed(0)} q/s = ${(dgramQps / ((perfs[3]! + perfs[4]!) / 2)).toFixed(2)}x dnsperf`);
          } finally {
            server.stop();
          }
        }
      }
      if (wants('es512')) {
        // Issue 14 target 6: the optional native ES512 verifier (system libcrypto) against node:crypto, alternating
        // short samples on this thread so both see the same machine load.
        const native = nativeEs512();
        if (!native) console.log('native ES512 verifier: not built (or EMBLEM_NATIVE_ES512=0): skipped');
        else {
          const ratios: number[] = [];
          const rates: Array<[number, number]> = [];
          for (let r = 0; r < 5; r++) {
            const a = rawEs512Rate(0.3, null);
            const b = rawEs512Rate(0.3, native);
            rates.push([a, b]);
            ratios.push(b / a);
          }
          const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
          console.log(`ES512 verify, node:crypto ${median(rates.map((r) => r[0])).toFixed(0)}/s vs native (system libcrypto) ${median(rates.map((r) => r[1])).toFixed(0)}/s: ` +
            `${median(ratios).toFixed(2)}x (median of 5 alternating samples; target >= 1.5x: ${verdict(median(ratios) >= 1.5)})`);
        }
      }
      const distinct = wants('distinct') || wants('verify')
        ? await distinctEmblemWorld(NAMES, 0.1, 100, (done, of) => {
            if (done % 1000 < 32 || done === of) process.stderr.write(`generating distinct ES512 emblems (cached in .bench-out/ for later runs): ${done}/${of}\n`);
          })
        : null;
      if (distinct && wants('distinct')) {
        // Issue 14 target 4, end to end: every protected target has its own emblem key and signatures.
        const server = await startServer(distinct.zoneFiles);
        let e2e: Summary;
        try {
          e2e = await scan(['--input', distinct.inputFile, '--resolver', server.address, '--out', join(dir, 'distinct.csv'), '--output', 'csv', '--attempts', '4', '--timeout', '2000']);
        } finally {
          server.stop();
        }
        if ((e2e.byStatus.protected ?? 0) !== distinct.protectedCount) throw new Error(`distinct-emblem scan: ${JSON.stringify(e2e.byStatus)}`);
        console.log(`end to end, ${e2e.targets} names, ${distinct.protectedCount} protected each with its own ES512 emblem key (100 organisations)` +
          `${distinct.reused ? '' : ' [zone generated this run]'}: ${(e2e.targets / e2e.seconds).toFixed(0)} targets/s, ` +
          `${(distinct.protectedCount / e2e.seconds).toFixed(0)} protected/s (${e2e.dnsQueries} queries, ${e2e.seconds.toFixed(1)} s); peak RSS ${mb(e2e.peakRssBytes)}`);
      }
      if (world && wants('rss')) {
        // 2. Peak RSS for 100k and 1M targets: ZDNS input streamed through stdin (no disk, no DNS), CSV output.
        const templates = new Map<string, string>();
        const zdnsLines = readFileSync(world.zdnsFile, 'utf8').split('\n');
        for (const kind of ['pj', 'ne', 'nx']) {
          const line = zdnsLines.find((l) => l.includes(`.${kind}.test"`))!;
          const name = (JSON.parse(line) as { name: string }).name;
          templates.set(kind, line.split(`"${name}"`).join('"@NAME@"'));
        }
        const rss: Array<[number, Summary]> = [];
        for (const count of [NAMES, BIG]) {
          const s = await scan(['--format', 'zdns', '--out', join(dir, `rss-${count}.csv`), '--output', 'csv'], zdnsStream(count, templates));
          if (s.targets !== count) throw new Error(`RSS run scanned ${s.targets} of ${count}`);
          rss.push([count, s]);
          rmSync(join(dir, `rss-${count}.csv`), { force: true });
        }
        for (const [count, s] of rss) {
          console.log(`peak RSS, ${count} targets (ZDNS input, 10 % protected): ${mb(s.peakRssBytes)} ` +
            `(${(s.targets / s.seconds).toFixed(0)} targets/s; target <= 300 MB: ${verdict(s.peakRssBytes <= 300 * 1048576)})`);
        }
        const [small, big] = [rss[0]![1].peakRssBytes, rss[1]![1].peakRssBytes];
        // "The same": within 15 % (allocator and GC timing vary run to run).
        console.log(`RSS growth from ${NAMES} to ${BIG} targets: ${((big / small - 1) * 100).toFixed(0)} % (target: flat, <= 15 %: ${verdict(big <= small * 1.15)})`);

      }
      if (distinct && wants('verify')) {
        // 3. Verification only (issue 14 target 4): every set has its own emblem key, emblem signature and root
        // endorsement (two signatures nobody has checked before, one key never imported); the organisation's external
        // endorsement repeats and is cached. Against raw ES512 (both on one pinned core); 4. one core vs two.
        const setsFile = join(dir, 'es512-sets.json');
        // Each child first verifies WARM sets per thread (every thread past JIT warm-up with warm caches, as in a long
        // scan), then walks its own range of fresh emblems in bursts.
        const WARM = 600;
        const ROUNDS = 5;
        const BURST_ONE = 300; // ~1 s on one core: long enough that the end of a burst (threads finishing unevenly) costs little
        const BURST_TWO = 2 * BURST_ONE;
        const sets = readSets(distinct);
        if (sets.length < 2 * WARM + ROUNDS * BURST_TWO) throw new Error(`verification needs ${2 * WARM + ROUNDS * BURST_TWO} protected targets; BENCH_SCAN_NAMES gives ${sets.length}`);
        writeFileSync(setsFile, JSON.stringify(sets));
        // Both children stay alive and take turns in short bursts, so a slow minute on this shared VM (a raw verify's
        // speed swings by a third between minutes) hits one-core and two-core measurements alike. The one-core child
        // also measures the raw ES512 rate between its bursts, on the same pinned core.
        const one = new PinnedVerifier('0', 1, setsFile, [0, WARM]);
        const two = new PinnedVerifier('0,1', 2, setsFile, [0, 2 * WARM]);
        try {
          await Promise.all([one.ready(), two.ready()]);
          let oneMs = 0;
          let twoMs = 0;
          const raws: number[] = [];
          const rawsNode: number[] = [];
          const ratios: number[] = [];
          const perRaw: number[] = [];
          const perRawNode: number[] = [];
          const platform: number[] = [];
          for (let r = 0; r < ROUNDS; r++) {
            raws.push(await one.command('raw 0.3'));
            rawsNode.push(await one.command('raw-node 0.3'));
            platform.push((await two.command('raw-parallel 0.3')) / raws[r]!);
            const a = await one.command(`pool ${WARM + r * BURST_ONE} ${WARM + (r + 1) * BURST_ONE}`);
            const b = await two.command(`pool ${2 * WARM + r * BURST_TWO} ${2 * WARM + (r + 1) * BURST_TWO}`);
            oneMs += a;
            twoMs += b;
            ratios.push((BURST_TWO / b) / (BURST_ONE / a));
            perRaw.push((BURST_ONE * 1000) / a / raws[r]!);
            perRawNode.push((BURST_ONE * 1000) / a / rawsNode[r]!);
          }
          const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
          const rawRate = median(raws);
          const oneRate = (ROUNDS * BURST_ONE * 1000) / oneMs;
          const twoRate = (ROUNDS * BURST_TWO * 1000) / twoMs;
          const backend = NATIVE_ES512 ? `native ES512, system libcrypto (${nativeEs512()!.libraryVersion}), the verifier's backend` : `node:crypto, the verifier's backend (native module not built or EMBLEM_NATIVE_ES512=0)`;
          console.log(`raw ES512 verify, 1 pinned core, WALL rate of one thread: ${backend}: ${rawRate.toFixed(0)}/s; node:crypto: ${median(rawsNode).toFixed(0)}/s ` +
            `(medians of ${ROUNDS} samples between bursts)`);
          // Each burst against the raw samples taken just before it on the same core; the median of those ratios.
          const costRatio = median(perRaw);
          const nodeRatio = median(perRawNode);
          // Two signatures per target are new (emblem, root endorsement of its key): signatures/s = 2 x targets/s.
          console.log(`verification only, distinct emblem keys, 1 pinned core (1 verification thread + the main thread on the same core): ` +
            `${oneRate.toFixed(0)} protected targets/s, ${(2 * oneRate).toFixed(0)} new signatures/s = ${(2 * nodeRatio).toFixed(2)}x raw ES512 verify/s ` +
            `(node:crypto, the unit of every verify target) (target >= 0.8x: ${verdict(2 * nodeRatio >= 0.8)}); ` +
            `= ${(2 * costRatio).toFixed(2)}x a raw verify of the verifier's own backend, context, not the target's unit (medians per burst against the raw samples just before it)`);
          console.log(`verification only, 2 pinned cores (2 verification threads): ${twoRate.toFixed(0)} protected targets/s = ${(twoRate / oneRate).toFixed(2)}x one core ` +
            `(${ROUNDS} interleaved bursts each; per-burst ratios ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}, median ${median(ratios).toFixed(2)}) ` +
            `(target >= 1.8x: ${verdict(twoRate >= 1.8 * oneRate)})`);
          // Context for the line above: a shared VM does not always deliver two cores' worth; this is the ceiling.
          console.log(`  the machine's own scaling in this run: raw ES512 (same backend) in 2 threads on 2 cores = ${median(platform).toFixed(2)}x one thread on one core ` +
            `(median of ${ROUNDS}); verification reaches ${((twoRate / oneRate) / median(platform) * 100).toFixed(0)} % of it`);
        } finally {
          one.close();
          two.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
