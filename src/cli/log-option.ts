import { readFileSync } from 'node:fs';
import { base64Decode } from '../core/encoding.js';
import type { LogPointer } from '../core/verify/commitment.js';
import { UsageError } from './exit.js';

/**
 * `--log` takes the JSON that `emblem ct leafhash` prints (an array of {"ver","id","hash"|"index"}, or one such
 * object), inline or as a file path. Era-neutral LogPointers come out; the signer writes them in its era's form.
 */
export function parseLogOption(value: string): LogPointer[] {
  const text = /^\s*[[{]/.test(value) ? value : readLogFile(value);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError('--log must be JSON: [{"ver":"v1","id":"<base64>","hash":"<base64>"}] or a file holding it');
  }
  const entries = Array.isArray(parsed) ? parsed : [parsed];
  return entries.map((e, i) => {
    const entry = e as Record<string, unknown>;
    const decode = (field: string): Uint8Array => {
      const v = entry[field];
      try {
        const bytes = base64Decode(String(v));
        if (bytes.length !== 32) throw new Error();
        return bytes;
      } catch {
        throw new UsageError(`--log entry ${i}: "${field}" must be standard base64 of 32 bytes`);
      }
    };
    const id = decode('id');
    if (entry.index !== undefined) {
      if (!Number.isSafeInteger(entry.index) || (entry.index as number) < 0) throw new UsageError(`--log entry ${i}: "index" must be a non-negative integer`);
      return { ver: 'static', id, index: entry.index as number };
    }
    return { ver: 'v1', id, hash: decode('hash') };
  });
}

function readLogFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`--log: ${path} is neither JSON nor a readable file`);
  }
}
