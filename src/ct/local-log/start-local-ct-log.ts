import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { toBase64 } from '../bytes.js';
import { LocalCtLog } from './local-ct-log.js';
import { createLocalLogServer } from './local-log-http.js';
import { LocalLogStore } from './local-log-store.js';

export interface StartLocalCtLogOptions {
  /** Accepted roots (DER). */
  roots: Uint8Array[];
  /** State directory; omitted = in memory (a fresh key every start). */
  dir?: string;
  /** Listen address; loopback by default. */
  host?: string;
  /** 0 = an ephemeral port. */
  port?: number;
  batchMs?: number;
  description?: string;
  /** The URL clients use, when it is not the listening address (behind a reverse proxy): it goes into the log
   *  list and is the checkpoint origin. Default: http://<host>:<port>/. */
  publicUrl?: string;
  /** The log's clock (SCT / tree head timestamps, chain validity); tests inject one. */
  now?: () => number;
  /** Tests only: 'signatures-only' stores chains a production log refuses (see LocalCtLogOptions). */
  chainValidation?: 'full' | 'signatures-only';
}

export interface RunningLocalCtLog {
  /** Base URL, ending in "/": `${url}ct/v1/add-chain`, `${url}checkpoint`, ... */
  url: string;
  /** Where it actually listens (differs from `url` only with `publicUrl`). */
  address: string;
  /** `${url}log_list.json`, a v3 list describing this log (as RFC 6962 and as tiled log). */
  logListUrl: string;
  /** Standard base64 log ID (SHA-256 of the log's SPKI), as `log` entries carry it. */
  logId: string;
  log: LocalCtLog;
  close(): Promise<void>;
}

/** Starts the local CT log over HTTP (used by `emblem ct serve`, tests, benchmarks and the demo). */
export async function startLocalCtLog(options: StartLocalCtLogOptions): Promise<RunningLocalCtLog> {
  let store: LocalLogStore | null = null;
  if (options.dir) {
    await mkdir(options.dir, { recursive: true });
    store = new LocalLogStore(options.dir);
  }
  const log = await LocalCtLog.open({
    roots: options.roots,
    store,
    ...(options.batchMs !== undefined ? { batchMs: options.batchMs } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.chainValidation ? { chainValidation: options.chainValidation } : {}),
  });
  const host = options.host ?? '127.0.0.1';
  let url = '';
  const server = createLocalLogServer(log, { baseUrl: () => url, ...(options.description ? { description: options.description } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const address = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  url = options.publicUrl ? options.publicUrl.replace(/\/*$/, '/') : address;
  return {
    url,
    address,
    logListUrl: `${url}log_list.json`,
    logId: toBase64(log.logId),
    log,
    async close() {
      await log.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
