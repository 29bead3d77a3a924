/**
 * What the browser test runs against, all on 127.0.0.1 with ephemeral ports: the DoH resolver (`emblem dns serve
 * --doh`), a tiny
 * web server for the pages, and Chromium (Debian's, via playwright-core) with the unpacked extension.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { CLI } from '../helpers/cli.js';

export interface LocalServer {
  url: string;
  port: number;
  /** Requests received (method + path), in order. */
  requests: string[];
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface DohResolver {
  url: string;
  /** The server's DoH counters (requests, get, post, answered, rejected), read through its stats file. */
  stats(): Promise<{ requests: number; get: number; post: number; answered: number; rejected: number }>;
  close(): Promise<void>;
}

/** `emblem dns serve --zone FILE --doh 127.0.0.1:0` (RFC 8484 at /dns-query); the URL comes from its listening line. */
export async function startDohResolver(zoneFile: string, statsFile: string): Promise<DohResolver> {
  const child = spawn(process.execPath, [CLI, 'dns', 'serve', '--zone', zoneFile, '--doh', '127.0.0.1:0', '--stats-file', statsFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`emblem dns serve --doh did not start: ${stderr}`)), 15_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { doh: string[] }).doh[0]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emblem dns serve exited with ${code}: ${stderr}`));
    });
  });
  return {
    url,
    async stats() {
      // The server rewrites the file in place on SIGUSR1: read until it parses again and (normally) has changed.
      const before = readFileSync(statsFile, 'utf8');
      child.kill('SIGUSR1');
      for (let i = 0; ; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const text = readFileSync(statsFile, 'utf8');
        type Stats = { doh: Awaited<ReturnType<DohResolver['stats']>> };
        let parsed: Stats | undefined;
        try {
          parsed = JSON.parse(text) as Stats;
        } catch {
          // caught mid-write
        }
        if (parsed !== undefined && (text !== before || i > 25)) return parsed.doh;
        if (i > 250) throw new Error(`unreadable stats file: ${JSON.stringify(text)}`);
      }
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Serves a small HTML page for any host and path (the "hospital" web sites). */
export async function startPageServer(): Promise<LocalServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.headers.host}${req.url}`);
    if (req.url === '/favicon.ico') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>${req.headers.host}</title><h1>${req.headers.host}</h1>`);
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/`, port, requests, close: () => closeServer(server) };
}

export function tempDir(prefix: string): { path: string; write(name: string, text: string): string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    write(name, text) {
      const file = join(path, name);
      writeFileSync(file, text);
      return file;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}
