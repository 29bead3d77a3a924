import { gunzipSync } from 'node:zlib';
import { ctError, CtErrorCodes } from './errors.js';
import { isGzip } from './http.js';

/** Static-ct tiles may be stored gzip-compressed and served without Content-Encoding; inflate them, bounded. */
export function maybeGunzip(body: Uint8Array, maxBytes: number, what: string): Uint8Array {
  if (!isGzip(body)) return body;
  try {
    return new Uint8Array(gunzipSync(body, { maxOutputLength: maxBytes }));
  } catch (err) {
    throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${what}: bad gzip data or larger than ${maxBytes} bytes`, err);
  }
}
