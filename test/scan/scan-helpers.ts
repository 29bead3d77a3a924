import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../helpers/cli.js';
import { SCAN_AT } from './scan-fixture.js';

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunningDnsServer {
  address: string;
  /** Stops the server (SIGTERM writes the stats file) and returns its counters. */
  stop(): Promise<{ queries: number }>;
}

/** `emblem dns serve` on 127.0.0.1 with an ephemeral port, as a separate process (its own core, like a real server). */
export async function startDnsServer(zoneFiles: string[], statsFile: string): Promise<RunningDnsServer> {
  // A scan is a legitimate high-rate client on one address (many NXDOMAINs per zone, up to --concurrency TCP
  // retries at once): response rate limiting and the per-address TCP limit, meant for the Internet, are lifted.
  const args = ['dns', 'serve', ...zoneFiles.flatMap((z) => ['--zone', z]), '--listen', '127.0.0.1:0', '--stats-file', statsFile, '--rrl-responses-per-second', '0', '--tcp-max-per-address', '0'];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`dns serve did not start: ${stderr}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        clearTimeout(timer);
        try {
          resolve((JSON.parse(line!) as { addresses: string[] }).addresses[0]!);
        } catch (err) {
          reject(err as Error);
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`dns serve exited ${code}: ${stderr}`)));
  });
  return {
    address,
    async stop() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(readFileSync(statsFile, 'utf8')) as { queries: number };
    },
  };
}

/** Flags every test scan uses: a fixed verification time and the CT check explicitly skipped (CT is tested elsewhere). */
export const SCAN_FLAGS = ['--skip-commitment-check', '--at', SCAN_AT, '--no-progress', '--json'];

export function spawnScan(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, 'scan', ...SCAN_FLAGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface ScanRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runScan(args: string[], timeoutMs = 600_000): Promise<ScanRun> {
  return waitFor(spawnScan(args), timeoutMs);
}

export function waitFor(child: ChildProcess, timeoutMs = 600_000): Promise<ScanRun> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`scan timed out; stderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Status and level of every line of a JSONL result file, by index. */
export function readResults(file: string): Array<{ index: number; target: string; status: string; level: string | null }> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { index: number; target: string; status: string; level: string | null });
}
