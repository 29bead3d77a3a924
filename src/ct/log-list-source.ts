import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-write.js';
import { ctError, CtErrorCodes } from './errors.js';
import { fetchHttp, parseJsonBody, type HttpClient } from './http.js';
import { CtLimits } from './limits.js';
import { LogDirectory, parseLogList } from './log-list.js';

import { DEFAULT_LOG_LIST_URLS } from './log-list-urls.js';

export { DEFAULT_LOG_LIST_URLS };

export interface LogListLoadOptions {
  http?: HttpClient;
  /** Directory for the on-disk cache of fetched lists; none = memory only. */
  cacheDir?: string | null;
  /** How long a fetched list is reused when the server sends no max-age. Lists change a few times a month. */
  maxAgeMs?: number;
  now?: () => number;
}

const DEFAULT_MAX_AGE_MS = 6 * 60 * 60 * 1000;

/** Default on-disk cache: $EMBLEM_CACHE_DIR, else $XDG_CACHE_HOME/emblem, else ~/.cache/emblem. */
export function defaultCacheDir(): string {
  if (process.env.EMBLEM_CACHE_DIR) return process.env.EMBLEM_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'emblem');
}

interface CachedList {
  url: string;
  fetchedAt: number;
  expiresAt: number;
  body: unknown;
}

const memoryCache = new Map<string, CachedList>();

function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** max-age from Cache-Control; no-store / no-cache mean "do not reuse". */
function freshnessMs(cacheControl: string | null, fallback: number): number {
  if (!cacheControl) return fallback;
  if (/no-store|no-cache/i.test(cacheControl)) return 0;
  const m = /max-age=(\d+)/i.exec(cacheControl);
  return m ? Math.min(Number(m[1]) * 1000, 7 * 24 * 3600 * 1000) : fallback;
}

async function loadUrl(url: string, options: LogListLoadOptions): Promise<LogDirectory> {
  const now = options.now?.() ?? Date.now();
  const cacheFile = options.cacheDir
    ? join(options.cacheDir, 'log-lists', `${createHash('sha256').update(url).digest('hex').slice(0, 32)}.json`)
    : null;
  const fresh = (c: CachedList | undefined): boolean => !!c && c.url === url && c.expiresAt > now;
  let cached = memoryCache.get(url);
  if (!fresh(cached) && cacheFile) {
    try {
      cached = JSON.parse(await readFile(cacheFile, 'utf8')) as CachedList;
    } catch {
      cached = undefined;
    }
  }
  if (cached && fresh(cached)) {
    memoryCache.set(url, cached);
    return parseLogList(cached.body, url);
  }
  const stale: CachedList | undefined = cached;
  try {
    const res = await (options.http ?? fetchHttp)(url, { maxBytes: CtLimits.maxLogListBytes });
    if (res.status !== 200) throw ctError(CtErrorCodes.CT_LOG_LIST_INVALID, `${url}: HTTP ${res.status}`);
    const body = parseJsonBody(res, url);
    const directory = parseLogList(body, url);
    const entry: CachedList = { url, fetchedAt: now, expiresAt: now + freshnessMs(res.cacheControl, options.maxAgeMs ?? DEFAULT_MAX_AGE_MS), body };
    if (entry.expiresAt > now) {
      memoryCache.set(url, entry);
      if (cacheFile) {
        await mkdir(dirname(cacheFile), { recursive: true })
          .then(() => writeFileAtomic(cacheFile, JSON.stringify(entry)))
          .catch(() => undefined); // a read-only cache directory only costs a re-fetch
      }
    }
    return directory;
  } catch (err) {
    // Offline or the list host is down: a stale copy is better than failing every check; it is reported.
    if (stale && stale.url === url) {
      const d = parseLogList(stale.body, url);
      d.warnings.push(`${url}: using a cached copy from ${new Date(stale.fetchedAt).toISOString()} (${err instanceof Error ? err.message : String(err)})`);
      return d;
    }
    throw err;
  }
}

async function loadFile(path: string): Promise<LogDirectory> {
  let text: string;
  try {
    const buf = await readFile(path);
    if (buf.length > CtLimits.maxLogListBytes) throw new Error(`larger than ${CtLimits.maxLogListBytes} bytes`);
    text = buf.toString('utf8');
  } catch (err) {
    throw ctError(CtErrorCodes.CT_LOG_LIST_INVALID, `${path}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw ctError(CtErrorCodes.CT_LOG_LIST_INVALID, `${path}: not JSON`, err);
  }
  return parseLogList(json, path);
}

/** Loads and merges log lists from files and/or URLs (in order; the first description of a log wins). */
export async function loadLogLists(sources: readonly string[], options: LogListLoadOptions = {}): Promise<LogDirectory> {
  const dirs = await Promise.all(sources.map((s) => (isUrl(s) ? loadUrl(s, options) : loadFile(s))));
  return LogDirectory.merge(dirs);
}

/** Forgets lists cached in memory (tests, benchmarks measuring cold starts). */
export function clearLogListMemoryCache(): void {
  memoryCache.clear();
}
