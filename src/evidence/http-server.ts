import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { EvidenceLimits } from './limits.js';
import { CHECKPOINT_FILE, OBSERVER_PUB_FILE } from './log.js';
import { readTile } from './tile-reader.js';
import { evidenceTilePath, parseEvidenceTilePath, TILE_WIDTH, type EvidenceTileAddress } from './tile-path.js';

/**
 * The read-only C2SP tlog-tiles HTTP interface of the evidence log, so anyone can mirror and audit it:
 *   GET /checkpoint, /tile/<L>/<N>[.p/<W>], /tile/entries/<N>[.p/<W>], and /observer.pub (the verifier key).
 * File paths are built from the parsed numbers only, never from the request text, so no request can name a file
 * outside the log (or the private key). Full tiles never change: they are served immutable.
 */
export interface EvidenceHttpServer {
  /** "http://127.0.0.1:PORT" */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface EvidenceHttpOptions {
  /** Drop a connection idle (not reading, not sending) this long (default EvidenceLimits.httpIdleTimeoutMs). */
  idleTimeoutMs?: number;
}

const TEXT = 'text/plain; charset=utf-8';
const BINARY = 'application/octet-stream';

function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]+)):([0-9]{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65_535) throw new RangeError(`listen address ${JSON.stringify(listen)} is not HOST:PORT`);
  return { host: m[1] ?? m[2]!, port };
}

function plain(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': TEXT, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(`${message}\n`);
}

async function serveFile(req: IncomingMessage, res: ServerResponse, path: string, type: string, cacheControl: string, maxBytes: number): Promise<void> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) return plain(res, 404, 'not found');
    size = s.size;
  } catch {
    return plain(res, 404, 'not found');
  }
  if (size > maxBytes) return plain(res, 500, 'stored file too large');
  res.writeHead(200, { 'content-type': type, 'content-length': size, 'cache-control': cacheControl, 'x-content-type-options': 'nosniff' });
  if (req.method === 'HEAD') return void res.end();
  const stream = createReadStream(path, { start: 0, end: Math.max(0, size - 1) });
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  if (size === 0) {
    stream.destroy();
    return void res.end();
  }
  stream.pipe(res);
}

/**
 * A partial tile: its own file while it exists, else the prefix of a wider version (the writer deletes partial
 * tiles that a wider one replaces; a client holding an older checkpoint still gets exactly the bytes it asks for).
 */
async function servePartial(req: IncomingMessage, res: ServerResponse, dir: string, address: EvidenceTileAddress): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await readTile(dir, address);
  } catch {
    return plain(res, 404, 'not found');
  }
  if (res.destroyed) return;
  res.writeHead(200, { 'content-type': BINARY, 'content-length': bytes.length, 'cache-control': 'public, max-age=60', 'x-content-type-options': 'nosniff' });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

export async function startEvidenceHttpServer(dir: string, listen: string, options: EvidenceHttpOptions = {}): Promise<EvidenceHttpServer> {
  const { host, port } = parseListen(listen);
  const idle = options.idleTimeoutMs ?? EvidenceLimits.httpIdleTimeoutMs;
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return plain(res, 405, 'read-only');
    }
    if (url.length > EvidenceLimits.maxHttpPathBytes || !url.startsWith('/')) return plain(res, 404, 'not found');
    const path = url.split('?', 1)[0]!.slice(1);
    if (path === CHECKPOINT_FILE) {
      return void serveFile(req, res, join(dir, CHECKPOINT_FILE), TEXT, 'no-cache', EvidenceLimits.maxNoteBytes);
    }
    if (path === OBSERVER_PUB_FILE) return void serveFile(req, res, join(dir, OBSERVER_PUB_FILE), TEXT, 'no-cache', 4096);
    const address = parseEvidenceTilePath(path);
    if (!address) return plain(res, 404, 'not found');
    const full = address.width === TILE_WIDTH;
    if (!full) return void servePartial(req, res, dir, address);
    return void serveFile(
      req,
      res,
      join(dir, evidenceTilePath(address)),
      BINARY,
      full ? 'public, max-age=31536000, immutable' : 'public, max-age=60',
      address.level === 'entries' ? EvidenceLimits.maxEntryBundleBytes : TILE_WIDTH * 32,
    );
  });
  server.maxConnections = EvidenceLimits.maxHttpConnections;
  server.headersTimeout = Math.min(idle, 60_000);
  server.requestTimeout = Math.min(idle * 3, 120_000);
  // A client that stops reading leaves the socket idle with a full buffer: drop it after `idle`.
  server.setTimeout(idle, (socket) => socket.destroy());
  server.keepAliveTimeout = Math.min(idle, 5_000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
