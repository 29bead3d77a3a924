/** The dashboard's only way to the server: the JSON API of `emblem serve` (same origin). No logic beyond transport. */

const TOKEN_KEY = 'emblem-api-token';

export interface ApiErrorBody {
  code: string;
  message: string;
}

/** An answer the API gave with an error status, or a transport failure (code NETWORK). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function storeToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token is asked again next time
  }
}

interface RequestOptions {
  method?: string;
  body?: string;
  contentType?: string;
  /** Send the API token (write endpoints). */
  auth?: boolean;
  signal?: AbortSignal;
}

async function request(path: string, o: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
  if (o.auth) {
    const token = storedToken();
    if (token) headers.authorization = `Bearer ${token}`;
  }
  let res: Response;
  try {
    res = await fetch(path, { method: o.method ?? 'GET', headers, ...(o.body !== undefined ? { body: o.body } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', `the server could not be reached (${(err as Error).message})`);
  }
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let message = res.statusText || `HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { error?: Partial<ApiErrorBody> };
      if (body.error?.code) code = body.error.code;
      if (body.error?.message) message = body.error.message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, code, message);
  }
  return res;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await (await request(path, signal ? { signal } : {})).json()) as T;
}

export async function postJson<T>(path: string, body: unknown, auth = false): Promise<T> {
  return (await (await request(path, { method: 'POST', body: JSON.stringify(body), auth })).json()) as T;
}

export async function postText<T>(path: string, text: string): Promise<T> {
  return (await (await request(path, { method: 'POST', body: text, contentType: 'text/plain' })).json()) as T;
}

export async function deleteJson<T>(path: string, auth = false): Promise<T> {
  return (await (await request(path, { method: 'DELETE', auth })).json()) as T;
}

/** A query string from the non-empty values, in a stable order (deep links are shareable and comparable). */
export function query(params: Record<string, string | boolean | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    q.set(k, String(v)); // booleans as true: the API's schema coerces "true", not "1"
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export interface Features {
  org: boolean;
  authority: boolean;
  observatory: boolean;
}
