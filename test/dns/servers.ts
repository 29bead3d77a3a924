import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';
import { normalizeUserName } from '../../src/dns/domain-name.js';
import { buildQuery } from '../../src/dns/resolver.js';
import { CLI } from '../helpers/cli.js';
import { thirdPartyEnv } from '../helpers/third-party.js';

/** Test servers on loopback: `emblem dns serve`, NSD and Knot, each with its own temp dir, stopped by the caller. */
export interface RunningServer {
  name: string;
  port: number;
  stop(): Promise<void>;
}

export function tempDir(prefix = 'emblem-dns-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A port free for both UDP and TCP on 127.0.0.1 right now (NSD and Knot cannot be told "port 0").
 * There is a small race with other processes; servers that fail to bind are reported clearly.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((resolve) => udp.bind(0, '127.0.0.1', () => resolve(udp.address().port)));
    const ok = await new Promise<boolean>((resolve) => {
      const tcp = createServer();
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => tcp.close(() => resolve(true)));
    });
    udp.close();
    if (ok) return port;
  }
  throw new Error('no free port');
}

/** A Debian tool the test needs: on CI (CI=true) its absence fails the test; elsewhere the test is skipped. */
export function requireTool(t: TestContext, tool: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { env: thirdPartyEnv() }).status === 0;
  if (found) return true;
  if (process.env.CI === 'true') throw new Error(`${tool} is not installed (CI installs it via .ci/run APT_PACKAGES)`);
  t.skip(`${tool} not installed`);
  return false;
}

/** Resolves once `child` has exited; after `ms` it is killed (SIGKILL) and the promise resolves anyway. */
export function waitForExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export interface EmblemServer extends RunningServer {
  child: ChildProcess;
  /** How it serves UDP, from its "listening" line: "native" (batched, native/udp_batch.c) or "dgram". */
  udp: string;
  stderr(): string;
  /** Asks for the counters (SIGUSR1) and reads the stats file once it has been rewritten. */
  stats(): Promise<Record<string, unknown>>;
}

/** Starts `emblem dns serve` on 127.0.0.1:0 and reads the port from its "listening" line. */
export async function startEmblemServer(zoneFiles: string[], extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<EmblemServer> {
  const dir = tempDir('emblem-serve-');
  const statsFile = join(dir.path, 'stats.json');
  const args = [CLI, 'dns', 'serve', ...zoneFiles.flatMap((z) => ['--zone', z]), '--listen', '127.0.0.1:0', '--stats-file', statsFile, ...extraArgs];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const { port, udp } = await new Promise<{ port: number; udp: string }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`emblem dns serve did not start: ${stderr}`)), 15_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        clearTimeout(timer);
        const listening = JSON.parse(line) as { addresses: string[]; udp: string };
        const addr = listening.addresses[0]!;
        resolve({ port: Number(addr.slice(addr.lastIndexOf(':') + 1)), udp: listening.udp });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emblem dns serve exited with ${code}: ${stderr}`));
    });
  });
  return {
    name: 'emblem',
    port,
    udp,
    child,
    stderr: () => stderr,
    async stats() {
      const before = readFileSync(statsFile, 'utf8');
      child.kill('SIGUSR1');
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const now = readFileSync(statsFile, 'utf8');
        if (now !== before || i > 50) return JSON.parse(now) as Record<string, unknown>;
      }
      return JSON.parse(readFileSync(statsFile, 'utf8')) as Record<string, unknown>;
    },
    async stop() {
      child.kill('SIGTERM');
      await waitForExit(child, 5_000);
      dir.remove();
    },
  };
}

/** Sends a UDP query to 127.0.0.1:port; resolves with the answer or null on timeout. */
export function udpAsk(port: number, message: Buffer, timeoutMs = 1_000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(null);
    }, timeoutMs);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(msg);
    });
    sock.send(message, port, '127.0.0.1');
  });
}

/** Polls a SOA query for `zone` until the server answers it (NOERROR with an answer): the zone is loaded. */
async function waitForZone(port: number, zone: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`server exited: ${log()}`);
    const answer = await udpAsk(port, buildQuery(normalizeUserName(zone), 6, 4242), 200);
    if (answer && (answer[3]! & 0xf) === 0 && answer.readUInt16BE(6) > 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not answer for ${zone}: ${log()}`);
}

/**
 * Starts a third-party DNS server (NSD, Knot, BIND) in the foreground with thirdPartyEnv(), keeping its output for
 * error messages, and resolves once it answers for each of `zones`. The returned stop() ends it (SIGKILL after 5 s)
 * and removes `dir`; a server that does not come up is stopped the same way before the error is thrown.
 */
export async function startDnsDaemon(command: string, args: string[], dir: { remove(): void }, port: number, zones: readonly string[]): Promise<() => Promise<void>> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: thirdPartyEnv() });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const stop = async () => {
    child.kill('SIGTERM');
    await waitForExit(child, 5_000);
    dir.remove();
  };
  try {
    for (const zone of zones) await waitForZone(port, zone, child, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  return stop;
}

/** One zone of a knot.conf: its file (in the server's dir) and further options, one `name: value` a line. */
export interface KnotZone {
  domain: string;
  file: string;
  options?: readonly string[];
}

/** The zone options of a primary taking RFC 2136 UPDATE (TSIG key emblem-update): changes kept in the journal. */
export const KNOT_UPDATE_ZONE_OPTIONS = ['acl: update', 'zonefile-sync: -1', 'zonefile-load: difference-no-serial', 'journal-content: all'];

/**
 * A knot.conf for a test server on 127.0.0.1:`port`, everything in `dir`: one UDP worker, warnings on stderr,
 * optionally a control socket (knotc) and the TSIG key `emblem-update` with an `update` ACL.
 */
export function knotConf(o: { dir: string; port: number; tcpWorkers: number; control?: boolean; updateKeySecret?: string; zones: readonly KnotZone[] }): string {
  const lines = [
    'server:',
    `    rundir: "${o.dir}"`,
    `    listen: 127.0.0.1@${o.port}`,
    '    udp-workers: 1',
    `    tcp-workers: ${o.tcpWorkers}`,
    '    background-workers: 1',
    ...(o.control ? ['control:', `    listen: "${o.dir}/knot.sock"`] : []),
    'database:',
    `    storage: "${o.dir}"`,
    'log:',
    '  - target: stderr',
    '    any: warning',
  ];
  if (o.updateKeySecret !== undefined) {
    lines.push('key:', '  - id: emblem-update', '    algorithm: hmac-sha256', `    secret: ${o.updateKeySecret}`);
    lines.push('acl:', '  - id: update', '    key: emblem-update', '    action: update');
  }
  lines.push('zone:');
  for (const z of o.zones) {
    lines.push(`  - domain: "${z.domain}"`, `    storage: "${o.dir}"`, `    file: "${z.file}"`, ...(z.options ?? []).map((x) => `    ${x}`));
  }
  return `${lines.join('\n')}\n`;
}

export interface ZoneSpec {
  origin: string;
  file: string;
}

/** NSD 4 in the foreground, its own config and state in a temp dir, rate limiting off (it would drop test load). */
export async function startNsd(zones: ZoneSpec[]): Promise<RunningServer> {
  const dir = tempDir('emblem-nsd-');
  const port = await freePort();
  const zoneBlocks = zones.map((z) => {
    const copy = join(dir.path, `${basename(z.file)}`);
    copyFileSync(z.file, copy);
    return `zone:\n  name: "${z.origin}"\n  zonefile: "${copy}"\n`;
  });
  const conf = join(dir.path, 'nsd.conf');
  writeFileSync(
    conf,
    `server:
  ip-address: 127.0.0.1@${port}
  port: ${port}
  zonesdir: "${dir.path}"
  pidfile: "${dir.path}/nsd.pid"
  username: ""
  chroot: ""
  database: ""
  xfrdfile: "${dir.path}/xfrd.state"
  zonelistfile: "${dir.path}/zone.list"
  xfrdir: "${dir.path}"
  server-count: 1
  verbosity: 1
  hide-version: yes
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
${zoneBlocks.join('')}`,
  );
  // Loaded once the first zone answers.
  const stop = await startDnsDaemon('nsd', ['-d', '-c', conf], dir, port, [zones[0]!.origin]);
  return { name: 'nsd', port, stop };
}

/** Knot DNS in the foreground with one UDP and one TCP worker. */
export async function startKnot(zones: ZoneSpec[]): Promise<RunningServer> {
  const dir = tempDir('emblem-knot-');
  const port = await freePort();
  for (const z of zones) copyFileSync(z.file, join(dir.path, basename(z.file)));
  const conf = join(dir.path, 'knot.conf');
  writeFileSync(conf, knotConf({ dir: dir.path, port, tcpWorkers: 1, zones: zones.map((z) => ({ domain: z.origin, file: basename(z.file) })) }));
  // Loaded once the first zone answers.
  const stop = await startDnsDaemon('knotd', ['-c', conf], dir, port, [zones[0]!.origin]);
  return { name: 'knot', port, stop };
}
