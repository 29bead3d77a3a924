/**
 * Observe service throughput and memory (issue 12, acceptance 7): windows over N targets against `emblem dns
 * serve` on loopback, with the SQLite store and the evidence log on (every observation appended, a checkpoint at
 * the end of the window). Each size runs in its own process so its peak RSS is its own.
 *
 * The world: most names publish no emblem (as on the real Internet), BENCH_OBSERVE_PROTECTED of them (default 2%)
 * a full endorsed token set that is verified every time. Targets stream from a list file. The zones and the list
 * are built in the parent and the DNS server is its own process: the child's peak RSS is the observatory's alone.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from './suites.js';

const SELF = fileURLToPath(import.meta.url);
const SIZES = (process.env.BENCH_OBSERVE_TARGETS ?? '10000,100000').split(',').map(Number);
const PROTECTED_SHARE = Number(process.env.BENCH_OBSERVE_PROTECTED ?? 0.02);

/**
 * Windows per size: by default ("equal") as many as make every size do the largest size's number of observations
 * (10,000 targets x 10 windows against 100,000 x 1). The service runs for days, so its memory is its steady-state
 * size; holding the run's length fixed makes what still differs between sizes memory per target. One window per
 * size (BENCH_OBSERVE_WINDOWS=1) compares a 10 s run with a 60 s one: the first ends before V8's heap reaches its
 * working size, so it measures run length, not targets (measured: 154 vs 218 MB one window each; 204 vs 214 MB equal).
 */
function windowsFor(targets: number): number {
  const w = process.env.BENCH_OBSERVE_WINDOWS ?? 'equal';
  if (w === 'equal') return Math.max(1, Math.round(Math.max(...SIZES) / targets));
  return Math.max(1, Number(w));
}

interface ChildResult {
  targets: number;
  windows: number;
  seconds: number;
  observationsPerSecond: number;
  errors: number;
  peakRssMb: number;
  /** Heap still reachable after the window and a full GC: what the process really keeps (the rest of the peak is GC slack). */
  retainedHeapMb: number | null;
  evidenceEntries: number;
  /** Largest heapUsed / external (incl. array buffers) seen by a 100 ms sampler during the window. */
  peakHeapUsedMb: number;
  peakExternalMb: number;
}

interface Prepared {
  dir: { path: string; remove(): void };
  zoneFiles: string[];
  targetsFile: string;
  trustedFile: string;
}

/**
 * The bench's world, built in the parent process (its memory is not the observatory's): zone files, the targets
 * list, the authority key. The child then runs only the observatory, so its peak RSS is the service's own.
 */
async function prepare(total: number): Promise<Prepared> {
  const { tempDir } = await import('../test/dns/servers.js');
  const { buildObserveWorld } = await import('../test/observatory/world.js');
  const { buildEmblemZone } = await import('../src/dns/emblem-zone.js');
  const { renderZoneFile } = await import('../src/dns/zone-file.js');
  const { readFileSync } = await import('node:fs');
  const dir = tempDir('emblem-observe-bench-');
  const world = await buildObserveWorld(1);
  // Reuse the world's endorsed records for the protected share (signed for *.obs.test, so here they verify but do
  // not name the target: the full verification cost, status not-covered); the rest get an A record and an SPF TXT.
  const sample = join(dir.path, 'sample.zone');
  world.write(sample, 'steady', 1);
  const protectedRdata = readFileSync(sample, 'utf8').split('\n').filter((l) => l.startsWith('ok0.obs.test.') && !/ IN A /.test(l)).map((l) => l.slice(l.indexOf(' IN ') + 4));
  // One zone per 10,000 names (a zone file is bounded at 200,000 records: DnsLimits.maxZoneRecords).
  const names: string[] = [];
  const every = Math.max(1, Math.round(1 / PROTECTED_SHARE));
  const zoneFiles: string[] = [];
  for (let z = 0; z * 10_000 < total; z++) {
    const origin = `z${z}.bench.test`;
    const { zone } = buildEmblemZone({ origin, owners: [], serial: 1 });
    const lines: string[] = [renderZoneFile(zone)];
    for (let i = z * 10_000; i < Math.min(total, (z + 1) * 10_000); i++) {
      const name = `n${i}.${origin}`;
      names.push(name);
      lines.push(`${name}. 600 IN A 127.0.0.2`);
      if (i % every === 0) for (const r of protectedRdata) lines.push(`${name}. 600 IN ${r}`);
      else lines.push(`${name}. 600 IN TXT "v=spf1 -all"`);
    }
    const file = join(dir.path, `${origin}.zone`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    zoneFiles.push(file);
  }
  const targetsFile = join(dir.path, 'targets.txt');
  writeFileSync(targetsFile, `${names.join('\n')}\n`);
  const trustedFile = join(dir.path, 'trusted.json');
  writeFileSync(trustedFile, JSON.stringify(world.trusted));
  return { dir, zoneFiles, targetsFile, trustedFile };
}

/** The observatory alone: one window over the targets list against the server at `address`. */
async function child(dirPath: string, targetsFile: string, trustedFile: string, address: string): Promise<ChildResult> {
  const { readFileSync } = await import('node:fs');
  const { skipCommitmentCheck } = await import('../src/core/verify/commitment.js');
  const { verifyMaterial } = await import('../src/core/verify/index.js');
  const { validateObserveConfig } = await import('../src/observatory/config.js');
  const { ObserveService, simulatedClock } = await import('../src/observatory/service.js');
  const { openObservatoryStore } = await import('../src/store/database/index.js');
  const { openEvidenceLog } = await import('../src/evidence/index.js');
  const { T0 } = await import('../test/observatory/world.js');
  const trusted = JSON.parse(readFileSync(trustedFile, 'utf8'));
  const config = validateObserveConfig(
    { targetsFile, vantagePoints: [{ name: 'local', resolver: address }], windowSeconds: 600, database: `sqlite:${join(dirPath, 'state.sqlite')}`, evidenceDir: join(dirPath, 'evidence'), skipCommitmentCheck: true, era: 'jws', concurrency: 256 },
    join(dirPath, 'observe.yaml'),
  );
  const clock = simulatedClock(T0);
  const store = await openObservatoryStore(config.database);
  await store.migrate();
  const evidence = process.env.BENCH_OBSERVE_EVIDENCE === '0' ? null : await openEvidenceLog(config.evidenceDir!, { now: () => clock.now() });
  const service = new ObserveService({
    config, store, evidence, clock,
    verify: (material, _era, now) => verifyMaterial(material, { now, trustedKeys: trusted, commitments: skipCommitmentCheck }),
  });
  const peak = { heap: 0, external: 0 };
  let ticks = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peak.heap = Math.max(peak.heap, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
    // BENCH_OBSERVE_TRACE=1: a memory time series on stderr (does anything grow with the targets seen so far?).
    if (process.env.BENCH_OBSERVE_TRACE === '1' && ticks++ % 50 === 0) {
      const mb = (n: number) => (n / 1048576).toFixed(0);
      process.stderr.write(`  [trace ${((performance.now() - started) / 1000).toFixed(0)} s] evidence ${evidence?.size ?? 0}: rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} MB\n`);
    }
  };
  const started = performance.now();
  const sampler = setInterval(sample, 100);
  const summaries = await service.run(T0, { windows: windowsFor(Number(process.env.OBSERVE_BENCH_CHILD)) });
  const summary = summaries[0];
  const observations = summaries.reduce((n, w) => n + w.observations, 0);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  sample();
  const result: ChildResult = {
    targets: summary!.targets,
    seconds,
    windows: summaries.length,
    observationsPerSecond: observations / seconds,
    errors: summaries.reduce((n, w) => n + w.errors, 0),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    retainedHeapMb: null,
    evidenceEntries: evidence?.size ?? 0,
    peakHeapUsedMb: peak.heap / 1024 / 1024,
    peakExternalMb: peak.external / 1024 / 1024,
  };
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    result.retainedHeapMb = process.memoryUsage().heapUsed / 1024 / 1024;
  }
  // Where the memory goes (measurement aid, not part of the row): a heap snapshot of what the service retains.
  if (process.env.BENCH_OBSERVE_HEAP_SNAPSHOT) {
    const { writeHeapSnapshot } = await import('node:v8');
    writeHeapSnapshot(`${process.env.BENCH_OBSERVE_HEAP_SNAPSHOT}-${summary!.targets}.heapsnapshot`);
  }
  await evidence?.close();
  await store.close();
  return result;
}

async function runChild(total: number): Promise<ChildResult> {
  const { startDnsServer } = await import('../test/scan/scan-helpers.js');
  const prepared = await prepare(total);
  // The scan tests' server start (its own process): rate limits lifted, and a minute to load a 100,000-name zone.
  const server = await startDnsServer(prepared.zoneFiles, join(prepared.dir.path, 'stats.json'));
  try {
    return await observeChild(total, [prepared.dir.path, prepared.targetsFile, prepared.trustedFile, server.address]);
  } finally {
    await server.stop();
    prepared.dir.remove();
  }
}

function observeChild(total: number, args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', SELF, ...args], { env: { ...process.env, OBSERVE_BENCH_CHILD: String(total) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`observe bench child (${total}) exited ${code}: ${out}`));
      resolve(JSON.parse(line) as ChildResult);
    });
  });
}

const suite: BenchSuite = {
  name: 'observe: observations/s and peak RSS (emblem dns serve on loopback, SQLite store, evidence log on)',
  async run() {
    const rows: ChildResult[] = [];
    for (const n of SIZES) {
      const r = await runChild(n);
      rows.push(r);
      console.log(
        `  ${String(r.targets).padStart(7)} targets${r.windows > 1 ? ` x ${r.windows} windows` : ''}: ${r.observationsPerSecond.toFixed(0).padStart(6)} observations/s (target >= 2,000), ` +
          `${r.seconds.toFixed(1)} s, ${r.errors} errors, evidence ${r.evidenceEntries} entries, peak RSS ${r.peakRssMb.toFixed(0)} MB (target < 500), heap retained ${r.retainedHeapMb?.toFixed(0) ?? '?'} MB ` +
          `(peak heap used ${r.peakHeapUsedMb.toFixed(0)} MB, external ${r.peakExternalMb.toFixed(0)} MB) ` +
          `[${r.observationsPerSecond >= 2000 ? 'MET' : 'MISSED'} throughput, ${r.peakRssMb < 500 ? 'MET' : 'MISSED'} RSS]`,
      );
    }
    if (rows.length >= 2) {
      const first = rows[0]!;
      const last = rows[rows.length - 1]!;
      const growth = last.peakRssMb - first.peakRssMb;
      // "Flat": within 20% of the smaller run's peak (GC timing alone moves a peak by tens of MB).
      const equal = first.windows * first.targets === last.windows * last.targets ? ', equal observations per size' : ', one window per size';
      console.log(`  RSS growth ${first.targets} -> ${last.targets} targets: ${growth.toFixed(0)} MB (flat = bounded memory${equal}) [${growth <= first.peakRssMb * 0.2 ? 'MET' : 'MISSED'}]`);
    }
  },
};
export default suite;

if (process.env.OBSERVE_BENCH_CHILD) {
  const [dirPath, targetsFile, trustedFile, address] = process.argv.slice(2);
  const r = await child(dirPath!, targetsFile!, trustedFile!, address!);
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}
