import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { fromBase64, toBase64 } from '../bytes.js';
import { checkpointOrigin } from '../checkpoint.js';
import { EmblemError } from '../../core/errors.js';
import { CtLimits } from '../limits.js';
import { encodeMerkleTreeLeaf } from '../merkle-tree-leaf.js';
import { sctToJson } from '../submission.js';
import { encodeTileLeaf } from '../tile-leaf.js';
import { parseTilePath, TILE_HEIGHT, TILE_WIDTH } from '../tile-path.js';
import { sthToJson } from '../tree-head.js';
import { TlsWriter } from '../tls-codec.js';
import type { LocalCtLog } from './local-ct-log.js';

export interface LocalLogHttpOptions {
  /** Base URL the log is reachable at, ending in "/" (used in the log list and as checkpoint origin). */
  baseUrl: () => string;
  description?: string;
}

class HttpFailure extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: Uint8Array | string, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, value: unknown, extra: Record<string, string> = {}): void {
  send(res, 200, JSON.stringify(value), 'application/json', extra);
}

function intParam(url: URL, name: string): number {
  const v = url.searchParams.get(name);
  if (v === null || !/^(0|[1-9][0-9]{0,15})$/.test(v)) throw new HttpFailure(400, `parameter ${name} must be a non-negative integer`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new HttpFailure(400, `parameter ${name} too large`);
  return n;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > CtLimits.maxSubmissionBytes) throw new HttpFailure(413, 'request too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function chainFromBody(text: string): Uint8Array[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HttpFailure(400, 'body is not JSON');
  }
  const chain = (json as { chain?: unknown })?.chain;
  if (!Array.isArray(chain) || chain.length === 0 || chain.length > CtLimits.maxChainLength) throw new HttpFailure(400, 'chain must be a non-empty array');
  return chain.map((c) => {
    const der = fromBase64(c);
    if (!der || der.length === 0) throw new HttpFailure(400, 'chain element is not base64');
    return der;
  });
}

/** The v3 log list describing this log, as an RFC 6962 log and as a tiled (static-ct) log with the same key. */
export function localLogList(log: LocalCtLog, baseUrl: string, description: string): unknown {
  const common = {
    description,
    log_id: toBase64(log.logId),
    key: toBase64(log.publicKeyDer),
    mmd: 1,
    state: { usable: { timestamp: new Date(0).toISOString() } },
  };
  return {
    version: '3.0',
    log_list_timestamp: new Date().toISOString(),
    operators: [
      {
        name: 'Emblem local CT log',
        email: [],
        logs: [{ ...common, url: baseUrl }],
        tiled_logs: [{ ...common, submission_url: baseUrl, monitoring_url: baseUrl }],
      },
    ],
  };
}

/** HTTP front of the local log: RFC 6962 write + read API, static-ct read API, and /log_list.json. */
export function createLocalLogServer(log: LocalCtLog, options: LocalLogHttpOptions): Server {
  const description = options.description ?? 'Emblem local CT log';
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/^\/+/, '');
    const head = log.treeHead;
    if (req.method === 'POST' && (path === 'ct/v1/add-chain' || path === 'ct/v1/add-pre-chain')) {
      const chain = chainFromBody(await readBody(req));
      try {
        sendJson(res, sctToJson(await log.submit(chain, path.endsWith('add-pre-chain'))));
      } catch (err) {
        if (err instanceof EmblemError) throw new HttpFailure(400, err.message);
        throw err;
      }
      return;
    }
    if (req.method !== 'GET') throw new HttpFailure(405, 'method not allowed');
    // The read API is public data: allow cross-origin reads (no credentials), so a browser client such as the
    // extension's CT checker can read it without a host permission, as it can read a CORS-enabled DoH resolver.
    res.setHeader('access-control-allow-origin', '*');
    switch (path) {
      case 'log_list.json':
        // no-store: ports (and so URLs) are reused by later runs with other keys; never let a client cache this.
        return sendJson(res, localLogList(log, options.baseUrl(), description), { 'cache-control': 'no-store' });
      case 'ct/v1/get-sth':
        return sendJson(res, sthToJson(head, head.signature));
      case 'ct/v1/get-sth-consistency': {
        const first = intParam(url, 'first');
        const second = intParam(url, 'second');
        if (first > second || second > head.treeSize) throw new HttpFailure(400, 'bad tree sizes');
        return sendJson(res, { consistency: log.tree.consistencyProof(first, second).map(toBase64) });
      }
      case 'ct/v1/get-proof-by-hash': {
        const hash = fromBase64(url.searchParams.get('hash'));
        const size = intParam(url, 'tree_size');
        if (!hash || hash.length !== 32 || size < 1 || size > head.treeSize) throw new HttpFailure(400, 'bad hash or tree_size');
        const index = log.leafIndexOf(hash);
        if (index === undefined || index >= size) throw new HttpFailure(404, 'no leaf with that hash in that tree');
        return sendJson(res, { leaf_index: index, audit_path: log.tree.inclusionProof(index, size).map(toBase64) });
      }
      case 'ct/v1/get-entries': {
        const start = intParam(url, 'start');
        const requestedEnd = intParam(url, 'end');
        if (start > requestedEnd || start >= head.treeSize) throw new HttpFailure(400, 'bad range');
        const end = Math.min(requestedEnd, head.treeSize - 1, start + CtLimits.maxEntriesPerRequest - 1);
        const entries = log.entries.slice(start, end + 1).map((e) => {
          const chain = new TlsWriter();
          for (const c of e.chain) chain.vector(3, c);
          const extra = new TlsWriter();
          if (e.entry.entryType === 'precert') extra.vector(3, e.preCertificate!);
          extra.vector(3, chain.finish());
          return { leaf_input: toBase64(encodeMerkleTreeLeaf(e.entry)), extra_data: toBase64(extra.finish()) };
        });
        return sendJson(res, { entries });
      }
      case 'ct/v1/get-roots':
        return sendJson(res, { certificates: log.roots.map(toBase64) });
      case 'checkpoint':
        return send(res, 200, log.checkpoint(checkpointOrigin(options.baseUrl())), 'text/plain; charset=utf-8', { 'cache-control': 'no-store' });
    }
    if (path.startsWith('issuer/')) {
      const der = log.issuer(path.slice('issuer/'.length));
      if (!der) throw new HttpFailure(404, 'unknown issuer');
      return send(res, 200, der, 'application/pkix-cert');
    }
    const tile = parseTilePath(path);
    if (!tile) throw new HttpFailure(404, 'not found');
    const first = tile.index * TILE_WIDTH;
    if (tile.level === 'data') {
      if (first + tile.width > head.treeSize) throw new HttpFailure(404, 'tile not available');
      const body = Buffer.concat(
        log.entries.slice(first, first + tile.width).map((e) =>
          encodeTileLeaf({
            entry: e.entry,
            ...(e.preCertificate ? { preCertificate: e.preCertificate } : {}),
            chainFingerprints: e.chain.map((c) => new Uint8Array(createHash('sha256').update(c).digest())),
          }),
        ),
      );
      // Data tiles compress well; serve gzip when asked, as static-ct logs do.
      if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
        return send(res, 200, gzipSync(body), 'application/octet-stream', { 'content-encoding': 'gzip' });
      }
      return send(res, 200, body, 'application/octet-stream');
    }
    const level = tile.level * TILE_HEIGHT;
    const nodes = log.tree.nodesAtLevel(level);
    const available = Math.floor(head.treeSize / 2 ** level);
    if (first + tile.width > available || first + tile.width > nodes.length) throw new HttpFailure(404, 'tile not available');
    return send(res, 200, Buffer.concat(nodes.slice(first, first + tile.width)), 'application/octet-stream');
  };
  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpFailure ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) send(res, status, JSON.stringify({ error: message }), 'application/json');
      else res.destroy();
    });
  });
}
