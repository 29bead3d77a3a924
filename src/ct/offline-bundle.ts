import { readFile } from 'node:fs/promises';
import { fromBase64, toBase64 } from './bytes.js';
import { ctError, CtErrorCodes } from './errors.js';
import { fetchHttp, parseJsonBody, type HttpClient, type HttpResponse } from './http.js';
import { CtLimits } from './limits.js';
import { LogDirectory, parseLogList } from './log-list.js';

/**
 * An offline CT bundle (`emblem ct prefetch`, then `--ct-bundle`): the log lists and every log answer a
 * commitment check of some token sets needed, recorded while online. Verifying with it replays those answers to
 * the ordinary checker, so tree head signatures, proofs, entry hashes and bindings are all checked again, offline;
 * nothing in the bundle is trusted beyond what the log list and the logs' keys prove. Offline validation must
 * stay possible (draft-ietf-diem-requirements).
 */
export interface CtBundle {
  format: typeof BUNDLE_FORMAT;
  /** When the answers were collected (ISO-8601); reported as the bundle's age. */
  createdAt: string;
  logLists: Array<{ source: string; list: unknown }>;
  responses: RecordedResponse[];
}

export interface RecordedResponse {
  method: 'GET' | 'POST';
  url: string;
  status: number;
  contentType: string | null;
  /** Standard base64 of the body. */
  body: string;
}

export const BUNDLE_FORMAT = 'emblem-ct-bundle/1';

const keyOf = (method: string, url: string) => `${method} ${url}`;

/** An HttpClient that passes requests on and remembers every answer (for `emblem ct prefetch`). */
export function recordingHttp(inner: HttpClient, into: Map<string, RecordedResponse>): HttpClient {
  return async (url, request) => {
    const res = await inner(url, request);
    const method = request.method ?? 'GET';
    if (method === 'GET' && into.size < CtLimits.maxBundleResponses) {
      into.set(keyOf(method, url), { method, url, status: res.status, contentType: res.contentType, body: toBase64(res.body) });
    }
    return res;
  };
}

/**
 * An HttpClient that answers only from the bundle and never touches the network. A request the bundle does not
 * hold is CT_LOG_UNREACHABLE: the bundle cannot tell, so the commitment is unavailable, not failed.
 */
export function replayHttp(bundle: CtBundle): HttpClient {
  const answers = new Map(bundle.responses.map((r) => [keyOf(r.method, r.url), r]));
  return async (url, request): Promise<HttpResponse> => {
    const r = answers.get(keyOf(request.method ?? 'GET', url));
    if (!r) throw ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${url}: not in the offline CT bundle (made ${bundle.createdAt}); prefetch again with the sets to verify`);
    const body = fromBase64(r.body) ?? new Uint8Array();
    if (body.length > request.maxBytes) throw ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${url}: recorded response exceeds ${request.maxBytes} bytes`);
    return { status: r.status, body, contentType: r.contentType, cacheControl: null };
  };
}

/** The log lists, fetched fresh (URLs) or read (files), kept as JSON so the bundle can hold them. */
export async function fetchLogListsForBundle(sources: readonly string[], http: HttpClient = fetchHttp): Promise<CtBundle['logLists']> {
  return Promise.all(
    sources.map(async (source) => {
      if (/^https?:\/\//i.test(source)) {
        const res = await http(source, { maxBytes: CtLimits.maxLogListBytes });
        if (res.status !== 200) throw ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${source}: HTTP ${res.status}`);
        const list = parseJsonBody(res, source);
        parseLogList(list, source);
        return { source, list };
      }
      let list: unknown;
      try {
        const buf = await readFile(source);
        if (buf.length > CtLimits.maxLogListBytes) throw new Error(`larger than ${CtLimits.maxLogListBytes} bytes`);
        list = JSON.parse(buf.toString('utf8'));
      } catch (err) {
        throw ctError(CtErrorCodes.CT_LOG_LIST_INVALID, `${source}: ${err instanceof Error ? err.message : String(err)}`, err);
      }
      parseLogList(list, source);
      return { source, list };
    }),
  );
}

export function bundleDirectory(bundle: Pick<CtBundle, 'logLists'>): LogDirectory {
  return LogDirectory.merge(bundle.logLists.map((l) => parseLogList(l.list, l.source)));
}

/** Reads and checks the shape of a bundle file (the content itself is verified when it is replayed). */
export async function readCtBundle(path: string): Promise<CtBundle> {
  const invalid = (why: string, cause?: unknown) => ctError(CtErrorCodes.CT_BUNDLE_INVALID, `${path}: ${why}`, cause);
  let json: unknown;
  try {
    const buf = await readFile(path);
    if (buf.length > CtLimits.maxBundleBytes) throw invalid(`larger than ${CtLimits.maxBundleBytes} bytes`);
    json = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === CtErrorCodes.CT_BUNDLE_INVALID) throw err;
    throw invalid(err instanceof SyntaxError ? 'not JSON' : err instanceof Error ? err.message : String(err), err);
  }
  const b = json as Partial<CtBundle> | null;
  if (!b || typeof b !== 'object' || b.format !== BUNDLE_FORMAT) throw invalid(`not an offline CT bundle (format ${BUNDLE_FORMAT}, written by emblem ct prefetch)`);
  if (typeof b.createdAt !== 'string' || Number.isNaN(Date.parse(b.createdAt))) throw invalid('createdAt is not a time');
  if (!Array.isArray(b.logLists) || b.logLists.length === 0 || b.logLists.length > 16) throw invalid('logLists must hold 1..16 lists');
  for (const l of b.logLists) if (!l || typeof l !== 'object' || typeof l.source !== 'string') throw invalid('a log list entry has no source');
  if (!Array.isArray(b.responses) || b.responses.length > CtLimits.maxBundleResponses) throw invalid(`responses must be a list of at most ${CtLimits.maxBundleResponses}`);
  for (const r of b.responses) {
    const ok = r && typeof r === 'object' && (r.method === 'GET' || r.method === 'POST') && typeof r.url === 'string' && Number.isInteger(r.status) &&
      (r.contentType === null || typeof r.contentType === 'string') && typeof r.body === 'string' && fromBase64(r.body) !== null;
    if (!ok) throw invalid('a recorded response is malformed');
  }
  return b as CtBundle;
}
