import { base64Decode, base64Encode } from '../core/encoding.js';
import { EmblemError } from '../core/errors.js';
import type { LogPointer } from '../core/verify/commitment.js';

/** The JSON form of a `log` entry, as `emblem ct leafhash` prints it and the JWS `log` claim holds it. */
export interface LogEntryJson {
  ver: 'v1' | 'static';
  id: string;
  hash?: string;
  index?: number;
}

export function logToJson(entries: LogPointer[]): LogEntryJson[] {
  return entries.map((e) => (e.index !== undefined ? { ver: 'static', id: base64Encode(e.id), index: e.index } : { ver: 'v1', id: base64Encode(e.id), hash: base64Encode(e.hash!) }));
}

/** Parses attacker-controlled `log` entries (a request): each a 32-byte id and a 32-byte hash or an index. */
export function logFromJson(value: unknown, field: string): LogPointer[] {
  if (!Array.isArray(value)) throw new EmblemError('REQUEST_MALFORMED', `${field} must be an array`);
  return value.map((e: unknown, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new EmblemError('REQUEST_MALFORMED', `${field}[${i}] must be an object`);
    const o = e as Record<string, unknown>;
    const bytes32 = (name: string): Uint8Array => {
      let b: Uint8Array;
      try {
        b = base64Decode(String(o[name]));
      } catch {
        throw new EmblemError('REQUEST_MALFORMED', `${field}[${i}].${name} is not base64`);
      }
      if (b.length !== 32) throw new EmblemError('REQUEST_MALFORMED', `${field}[${i}].${name} must be 32 bytes`);
      return b;
    };
    if (o.index !== undefined) {
      if (!Number.isSafeInteger(o.index) || (o.index as number) < 0) throw new EmblemError('REQUEST_MALFORMED', `${field}[${i}].index must be a non-negative integer`);
      return { ver: 'static', id: bytes32('id'), index: o.index as number };
    }
    return { ver: 'v1', id: bytes32('id'), hash: bytes32('hash') };
  });
}
