import { ctError, CtErrorCodes } from './errors.js';
import { CtLimits } from './limits.js';

export interface HttpResponse {
  status: number;
  body: Uint8Array;
  contentType: string | null;
  cacheControl: string | null;
}

export interface HttpRequest {
  maxBytes: number;
  timeoutMs?: number;
  method?: 'GET' | 'POST';
  body?: string;
}

/** The one way the CT adapter talks HTTP (fetch only: the browser extension uses it too); injectable so tests and benchmarks can count or tamper. */
export type HttpClient = (url: string, request: HttpRequest) => Promise<HttpResponse>;

// static-ct logs ask clients to identify themselves with a contact URL in the user agent ("+https://...").
const USER_AGENT = 'emblem-ct/0.1 (+https://datatracker.ietf.org/doc/draft-linker-diem-adem-core/)';

/**
 * fetch with a deadline and a byte cap. The body is read as a stream and abandoned as soon as it exceeds
 * `maxBytes`, so a hostile log cannot make us buffer gigabytes (undici decompresses Content-Encoding: gzip on
 * the fly; the cap applies to the decompressed bytes).
 */
export const fetchHttp: HttpClient = async (url, request) => {
  const timeoutMs = request.timeoutMs ?? CtLimits.requestTimeoutMs;
  let res: Response;
  try {
    res = await fetch(url, {
      method: request.method ?? 'GET',
      headers: {
        'user-agent': USER_AGENT,
        accept: '*/*',
        ...(request.body ? { 'content-type': 'application/json' } : {}),
      },
      ...(request.body ? { body: request.body } : {}),
      redirect: 'follow',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${url}: ${describe(err)}`, err);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > request.maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${url}: response of ${declared} bytes exceeds ${request.maxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > request.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${url}: response exceeds ${request.maxBytes} bytes`);
        }
        chunks.push(value);
      }
    }
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === CtErrorCodes.CT_LOG_UNREACHABLE) throw err;
    throw ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${url}: ${describe(err)}`, err);
  }
  const body = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return { status: res.status, body, contentType: res.headers.get('content-type'), cacheControl: res.headers.get('cache-control') };
};

function describe(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  if (err instanceof Error) return (err.cause instanceof Error ? err.cause.message : '') || err.message;
  return String(err);
}

/** Inflates a gzip body to at most `maxBytes` (static-ct tiles may be stored compressed); node:zlib or the browser's DecompressionStream. */
export type Gunzip = (body: Uint8Array, maxBytes: number, what: string) => Uint8Array | Promise<Uint8Array>;

export function isGzip(body: Uint8Array): boolean {
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
}

/** Parses a JSON body, mapping failure to CT_RESPONSE_MALFORMED. */
export function parseJsonBody(res: HttpResponse, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(res.body));
  } catch (err) {
    throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${what}: not JSON`, err);
  }
}
