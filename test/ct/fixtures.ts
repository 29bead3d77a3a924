/** Shared set-up for the CT tests: a local CA and CT log on loopback, a tampering proxy, request helpers. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommitmentRequest, LogPointer } from '../../src/core/verify/commitment.js';
import { fromBase64 } from '../../src/ct/bytes.js';
import { CtCommitmentChecker, type CtCommitmentCheckerOptions } from '../../src/ct/commitment-checker.js';
import { createLocalCa, type LocalCa } from '../../src/ct/local-ca.js';
import { startLocalCtLog, type RunningLocalCtLog } from '../../src/ct/local-log/start-local-ct-log.js';
import type { LogEntryJson } from '../../src/ct/leaf-hash.js';
import { loadLogLists } from '../../src/ct/log-list-source.js';

export function tempDir(prefix = 'emblem-ct-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface CaAndLog {
  ca: LocalCa;
  log: RunningLocalCtLog;
}

export async function startCaAndLog(options: { dir?: string; ca?: LocalCa } = {}): Promise<CaAndLog> {
  const ca = options.ca ?? (await createLocalCa());
  const log = await startLocalCtLog({ roots: [ca.certificate], batchMs: 20, ...(options.dir ? { dir: options.dir } : {}) });
  return { ca, log };
}

export function pointer(entry: LogEntryJson): LogPointer {
  return entry.ver === 'v1'
    ? { ver: 'v1', id: fromBase64(entry.id)!, hash: fromBase64(entry.hash)! }
    : { ver: 'static', id: fromBase64(entry.id)!, index: entry.index };
}

export function request(host: string, kid: string, logs: LogEntryJson[], now = new Date()): CommitmentRequest {
  return { era: 'jws', issuer: `https://${host}`, host, kid, publicKey: {}, logs: logs.map(pointer), now };
}

/** A checker reading only the given log list URLs / files (memory caches only: nothing written to disk). */
export function checkerFor(sources: string[], extra: Partial<CtCommitmentCheckerOptions> = {}): CtCommitmentChecker {
  return new CtCommitmentChecker({ logDirectory: () => loadLogLists(sources), ...extra });
}

export type Tamper = (path: string, body: Buffer) => Buffer;

export interface TamperingProxy {
  url: string;
  logListUrl: string;
  /** Replace the upstream log (e.g. with a fork of it that shares its key). */
  upstream: string;
  tamper: Tamper | null;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a local log that can rewrite any response: the hostile log of the failure tests.
 * Its log list points the RFC 6962 `url` and the tiled `monitoring_url` at the proxy; the tiled
 * `submission_url` stays the upstream's, because the checkpoint origin is derived from it.
 */
export async function startTamperingProxy(upstream: string): Promise<TamperingProxy> {
  const state: TamperingProxy = {
    url: '',
    logListUrl: '',
    upstream,
    tamper: null,
    close: async () => undefined,
  };
  const server: Server = createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const path = (req.url ?? '/').replace(/^\//, '');
      const up = await fetch(`${state.upstream}${path}`, {
        method: req.method ?? 'GET',
        ...(req.method === 'POST' ? { body: Buffer.concat(chunks), headers: { 'content-type': 'application/json' } } : {}),
      });
      let body: Buffer = Buffer.from(await up.arrayBuffer());
      if (path === 'log_list.json') {
        const list = JSON.parse(body.toString('utf8'));
        for (const op of list.operators) {
          for (const l of op.logs ?? []) l.url = state.url;
          for (const l of op.tiled_logs ?? []) l.monitoring_url = state.url;
        }
        body = Buffer.from(JSON.stringify(list));
      } else if (state.tamper) {
        body = state.tamper(path.split('?')[0]!, body);
      }
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    } catch (err) {
      res.writeHead(502);
      res.end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}/`;
  state.logListUrl = `${state.url}log_list.json`;
  state.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

/** Rewrites one JSON field of a response through `edit`. */
export function editJson(body: Buffer, edit: (json: Record<string, unknown>) => void): Buffer {
  const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  edit(json);
  return Buffer.from(JSON.stringify(json));
}

/** Flips one bit of a base64 value (in its last decoded byte). */
export function flipBase64(value: string): string {
  const b = Buffer.from(value, 'base64');
  b[b.length - 1]! ^= 0x01;
  return b.toString('base64');
}
