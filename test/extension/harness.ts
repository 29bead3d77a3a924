/**
 * What the browser test runs against, all on 127.0.0.1 with ephemeral ports: the DoH resolver (`emblem dns serve
 * --doh` when this build has it, else an in-process RFC 8484 endpoint over the same AuthoritativeResponder), a tiny
 * web server for the pages, and Chromium (Debian's, via playwright-core) with the unpacked extension.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { indexZones } from '../../src/dns/authoritative-data.js';
import { AuthoritativeResponder } from '../../src/dns/authoritative-responder.js';
import { parseZoneFile } from '../../src/dns/zone-file.js';

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

async function body(req: IncomingMessage, max: number): Promise<Uint8Array | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of req) {
    total += (c as Buffer).length;
    if (total > max) return null;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** An RFC 8484 endpoint (GET ?dns= and POST) at /dns-query over the zone text, allowing cross-origin reads. */
export async function startDohResolver(zoneText: string): Promise<LocalServer> {
  const responder = new AuthoritativeResponder(indexZones([parseZoneFile(zoneText)]));
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let query: Uint8Array | null = null;
    if (url.pathname === '/dns-query' && req.method === 'GET' && url.searchParams.has('dns')) query = Buffer.from(url.searchParams.get('dns')!, 'base64url');
    else if (url.pathname === '/dns-query' && req.method === 'POST') query = await body(req, 65_535);
    const answer = query ? responder.respond(query, 'tcp').response : null;
    if (!answer) {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/dns-message', 'access-control-allow-origin': '*', 'cache-control': 'max-age=0' }).end(answer);
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/dns-query`, port, requests, close: () => closeServer(server) };
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
