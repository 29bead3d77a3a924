import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from './suites.js';
import { buildEmblemZone } from '../src/dns/emblem-zone.js';
import { parsePublishableText } from '../src/dns/material-files.js';
import { renderZoneFile } from '../src/dns/zone-file.js';
import { startKnot, startNsd, tempDir, type RunningServer } from '../test/dns/servers.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const INTEROP_DNS = fileURLToPath(new URL('../../shared/interop/dns/', import.meta.url));
/** Seconds of load per run; every server gets the same runs, interleaved, so machine noise hits all of them. */
const RUN_SECONDS = Number(process.env.BENCH_DNS_SECONDS ?? 5);
const ROUNDS = 2;

/**
 * Queries from a second process: a realistic authoritative mix for an emblem zone (positive, NODATA with the
 * DNS-02 additional section on our side, NXDOMAIN, SOA) and emblem TXT lookups, which do not fit into 512
 * bytes and are answered TC by every server (no EDNS in the query, so all servers work under the same limit).
 */
const QUERIES = [
  'emblem.felixlinker.de AAAA',
  'emblem.felixlinker.de A',
  'cyberstar.online TXT',
  'adem.redcross.org.uk TXT',
  'ns1 A',
  '. SOA',
  'nope.example A',
  'empty.example A',
];

function writeZone(dir: string): string {
  const owner = (name: string, file: string) => ({ owner: name, items: parsePublishableText(readFileSync(join(INTEROP_DNS, file)), file) });
  const { zone } = buildEmblemZone({
    origin: '',
    serial: 1,
    owners: [
      owner('cyberstar.online', 'cyberstar.online.txt'),
      owner('emblem.felixlinker.de', 'emblem.felixlinker.de.txt'),
      owner('adem.redcross.org.uk', 'emblem.redcross.org.uk.txt'),
    ],
    addresses: [
      { owner: 'emblem.felixlinker.de', ip: '2a01:4f9:c010:d8e4::1' },
      { owner: 'empty.example', ip: '192.0.2.1' },
    ],
  });
  const path = join(dir, 'bench.zone');
  writeFileSync(path, renderZoneFile(zone));
  return path;
}

/** `emblem dns serve` from the sources (tsx only transpiles at load; the serving loop is the same code). Response
 *  rate limiting is off: dnsperf asks the same 8 questions from one address (NSD is started with RRL off too). */
async function startEmblem(zone: string, engine: 'native' | 'dgram'): Promise<RunningServer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'dns', 'serve', '--zone', zone, '--listen', '127.0.0.1:0', '--rrl-responses-per-second', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: ROOT,
    env: { ...process.env, EMBLEM_NATIVE_UDP: engine === 'native' ? '1' : '0' },
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('emblem dns serve did not start within 30 s')), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /"127\.0\.0\.1:(\d+)".*"udp":"(\w+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        if (m[2] !== engine) console.log(`  (emblem dns serve asked for ${engine} UDP serves with ${m[2]}: the native module is not built)`);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`emblem dns serve exited with ${code}`)));
  });
  return {
    name: engine === 'native' ? 'emblem' : 'emblem-dgram',
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

/** One dnsperf run (a separate process, 4 client sockets, 500 queries in flight), bounded by -l and a kill timer. */
function dnsperf(port: number, queryFile: string): { qps: number; lost: number } {
  const r = spawnSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(RUN_SECONDS), '-c', '4', '-q', '500', '-t', '2'], {
    encoding: 'utf8',
    timeout: (RUN_SECONDS + 20) * 1000,
  });
  const qps = /Queries per second:\s+([\d.]+)/.exec(r.stdout);
  const lost = /Queries lost:\s+(\d+)/.exec(r.stdout);
  if (!qps) throw new Error(`dnsperf failed: ${r.stderr || r.stdout}`);
  return { qps: Number(qps[1]), lost: Number(lost?.[1] ?? 0) };
}

/**
 * Fallback load generator when dnsperf is not installed: a child Node process keeping 200 UDP queries in
 * flight for RUN_SECONDS (bounded in time and by a 2 s per-query give-up) and printing answers per second.
 */
function nodeLoad(port: number): { qps: number; lost: number } {
  const script = `
    import dgram from 'node:dgram';
    const qs = ${JSON.stringify(QUERIES)}.map((line, i) => {
      const [name, type] = line.split(' ');
      const labels = name === '.' ? [] : name.split('.');
      const t = { A: 1, AAAA: 28, TXT: 16, SOA: 6 }[type];
      const parts = [Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
      for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l));
      parts.push(Buffer.from([0, t >> 8, t & 255, 0, 1]));
      return Buffer.concat(parts);
    });
    const sock = dgram.createSocket('udp4');
    let sent = 0, got = 0, inflight = 0;
    const end = Date.now() + ${RUN_SECONDS * 1000};
    const send = () => { const q = Buffer.from(qs[sent % qs.length]); q.writeUInt16BE(sent & 0xffff, 0); sent++; inflight++; sock.send(q, ${port}, '127.0.0.1'); };
    sock.on('message', () => { got++; inflight--; if (Date.now() < end) send(); });
    sock.bind(0, '127.0.0.1', () => { for (let i = 0; i < 200; i++) send(); });
    setTimeout(() => { console.log(JSON.stringify({ qps: got / ${RUN_SECONDS}, lost: inflight })); process.exit(0); }, ${RUN_SECONDS * 1000});
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: (RUN_SECONDS + 20) * 1000 });
  return JSON.parse(r.stdout) as { qps: number; lost: number };
}

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

const suite: BenchSuite = {
  name: 'dns (emblem dns serve vs NSD / Knot on the same zone, load from a second process)',
  async run() {
    const dir = tempDir('emblem-bench-dns-');
    const servers: RunningServer[] = [];
    try {
      const zone = writeZone(dir.path);
      const queryFile = join(dir.path, 'queries.txt');
      writeFileSync(queryFile, QUERIES.join('\n') + '\n');
      servers.push(await startEmblem(zone, 'native'));
      // For context only (not the target): the same server without the native batching module.
      servers.push(await startEmblem(zone, 'dgram'));
      if (has('nsd')) servers.push(await startNsd([{ origin: '.', file: zone }]));
      if (has('knotd')) servers.push(await startKnot([{ origin: '.', file: zone }]));
      const load = has('dnsperf') ? (port: number) => dnsperf(port, queryFile) : nodeLoad;
      console.log(
        `load: ${has('dnsperf') ? 'dnsperf (Debian), 4 sockets, 500 in flight' : 'Node UDP generator, 200 in flight (dnsperf not installed)'}, ` +
          `${RUN_SECONDS} s per run, ${ROUNDS} interleaved rounds, best run counted; every server single-process/one UDP worker; ` +
          `${QUERIES.length}-query mix; ${(await import('node:os')).cpus().length} CPUs shared with the load generator`,
      );
      const best = new Map<string, number>();
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of servers) {
          const r = load(s.port);
          console.log(`  round ${round + 1} ${s.name.padEnd(12)} ${r.qps.toFixed(0).padStart(7)} queries/s (${r.lost} lost)`);
          best.set(s.name, Math.max(best.get(s.name) ?? 0, r.qps));
        }
      }
      const ours = best.get('emblem')!;
      console.log(`emblem dns serve: ${ours.toFixed(0)} queries/s with batched UDP (native/udp_batch.c); ` +
        `${best.get('emblem-dgram')!.toFixed(0)} queries/s with node:dgram (context)`);
      for (const other of ['nsd', 'knot']) {
        const theirs = best.get(other);
        if (theirs === undefined) {
          console.log(`${other}: not installed, no comparison`);
          continue;
        }
        const ratio = ours / theirs;
        console.log(`${other}: ${theirs.toFixed(0)} queries/s; emblem/${other} = ${ratio.toFixed(2)} (target >= 0.50: ${ratio >= 0.5 ? 'MET' : 'MISSED'})`);
      }
    } finally {
      for (const s of servers) await s.stop();
      dir.remove();
    }
  },
};

export default suite;
