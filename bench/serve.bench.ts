import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from './suites.js';
import { BENCH_SECONDS } from './measure.js';
import { spawn } from 'node:child_process';
import { Agent, get } from 'node:http';
import { buildEmblemZone } from '../src/dns/emblem-zone.js';
import { parsePublishableText } from '../src/dns/material-files.js';
import { renderZoneFile } from '../src/dns/zone-file.js';
import { AuthoritativeResponder } from '../src/dns/authoritative-responder.js';
import { AuthoritativeServer } from '../src/dns/authoritative-server.js';
import { indexZones } from '../src/dns/authoritative-data.js';
import { parseZoneFile } from '../src/dns/zone-file.js';
import { DEFAULT_IHLE_TYPE } from '../src/dns/rr-type.js';
import { tempDir } from '../test/dns/servers.js';

const INTEROP_DNS = fileURLToPath(new URL('../../shared/interop/dns/', import.meta.url));
/** Names in the local zone; a "cold" request asks for one not asked before (no answer cache, full lookup + verify). */
const NAMES = 5_000;
const AT = '2026-06-17T00:10:00Z';
/** Requests in flight at once (keep-alive connections); the machine has few cores, so a handful saturates it. */
const CONNECTIONS = 8;
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

interface Load {
  /** 200 answers carrying a check report, per wall-clock second. */
  okPerSecond: number;
  ok: number;
  /** Answers that were not such a 200 (429 RATE_LIMITED, errors): not counted as work. */
  other: number;
  /** 200 answers marked x-emblem-cache: hit. */
  hits: number;
}

function request(agent: Agent, url: string): Promise<{ status: number; body: string; hit: boolean }> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, hit: res.headers['x-emblem-cache'] === 'hit' }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** CONNECTIONS workers ask next() until BENCH_SECONDS pass or next() returns null; only 200 check reports count. */
async function load(agent: Agent, next: () => string | null): Promise<Load> {
  const out = { ok: 0, other: 0, hits: 0 };
  const start = performance.now();
  const worker = async () => {
    while (performance.now() - start < BENCH_SECONDS * 1000) {
      const url = next();
      if (url === null) return;
      const r = await request(agent, url);
      let status: unknown;
      try {
        status = (JSON.parse(r.body) as { status?: unknown }).status;
      } catch {
        status = undefined;
      }
      if (r.status === 200 && typeof status === 'string' && status !== 'error') {
        out.ok++;
        if (r.hit) out.hits++;
      } else out.other++;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return { ...out, okPerSecond: (out.ok * 1000) / (performance.now() - start) };
}

/** Starts `emblem serve` (built CLI) on an ephemeral loopback port; resolves with its URL once it listens. */
async function startServeProcess(args: string[]): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl >= 0) resolve((JSON.parse(stdout.slice(0, nl)) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`emblem serve exited with ${code}: ${stderr}`)));
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * `GET /api/check` over real HTTP (loopback, keep-alive, several requests in flight) to `emblem serve` in its own
 * process, against an in-process authoritative server with a local zone: a cached name (the API's short answer
 * cache) and cold names (DNS lookup + verification each time). Only 200 answers with a report count. Commitment
 * checks are skipped (CT is measured in the ct suite).
 */
const suite: BenchSuite = {
  name: 'serve (emblem serve: Check API)',
  async run() {
    const dir = tempDir('emblem-bench-serve-');
    const set = parsePublishableText(readFileSync(join(INTEROP_DNS, 'emblem.felixlinker.de.txt')), 'felix');
    const { zone } = buildEmblemZone({
      origin: 'bench.example',
      serial: 1,
      owners: [{ owner: 'emblem.felixlinker.de.bench.example', items: set }, ...Array.from({ length: NAMES }, (_, i) => ({ owner: `n${i}.bench.example`, items: set }))],
      addresses: [],
    });
    const path = join(dir.path, 'bench.zone');
    writeFileSync(path, renderZoneFile(zone));
    const data = indexZones([parseZoneFile(readFileSync(path, 'utf8'), { ihleType: DEFAULT_IHLE_TYPE })], DEFAULT_IHLE_TYPE);
    const dns = new AuthoritativeServer(new AuthoritativeResponder(data), undefined, { rrlResponsesPerSecond: 0 });
    const [resolver] = await dns.start([{ host: '127.0.0.1', port: 0 }]);
    // The real `emblem serve` in its own process, rate limit off (--rate-limit 0: the default 20/s per client would
    // make this a benchmark of the limiter), so the client's CPU is not counted as the server's.
    const server = await startServeProcess(['--rate-limit', '0']);
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    try {
      const url = (name: string) => `${server.url}/api/check?name=${name}&resolver=${resolver}&at=${AT}&skipCommitmentCheck=true`;
      const cached = await load(agent, () => url('n0.bench.example'));
      let i = 1;
      const cold = await load(agent, () => (i < NAMES ? url(`n${i++}.bench.example`) : null));
      console.log(`| GET /api/check (${CONNECTIONS} keep-alive connections, emblem serve --rate-limit 0) | 200 answers/s | other answers | answers from the cache |`);
      console.log('|---|---:|---:|---:|');
      console.log(`| cached name (one name, asked again and again) | ${cached.okPerSecond.toFixed(0)} | ${cached.other} | ${cached.hits} of ${cached.ok} |`);
      console.log(`| cold names (each asked once: DNS lookup + verify) | ${cold.okPerSecond.toFixed(0)} | ${cold.other} | ${cold.hits} of ${cold.ok} |`);
      console.log(`(only 200 answers with a check report are counted; ${NAMES} names in the local zone, ${i - 1} cold names asked; server on loopback in its own process)`);
      // The default limit, for comparison: one client gets its burst, then 429s.
      const limited = await startServeProcess([]);
      const fresh = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
      try {
        const r = await load(fresh, () => `${limited.url}/api/check?name=n0.bench.example&resolver=${resolver}&at=${AT}&skipCommitmentCheck=true`);
        console.log(`(same cached name with the default --rate-limit 20: ${r.okPerSecond.toFixed(0)} 200 answers/s, ${r.other} refused with 429 or other)`);
      } finally {
        fresh.destroy();
        await limited.stop();
      }
    } finally {
      agent.destroy();
      await server.stop();
      await dns.stop();
      dir.remove();
    }
  },
};

export default suite;
