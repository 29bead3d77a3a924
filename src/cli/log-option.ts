import { readFileSync } from 'node:fs';
import { base64Decode } from '../core/encoding.js';
import type { LogPointer } from '../core/verify/commitment.js';
import { UsageError } from './exit.js';

const LOG_HINT =
  'A root endorsement needs the CT log entries of its key\'s binding certificate: `emblem ct leafhash CHAIN.pem` ' +
  '(or `emblem ct submit CHAIN.pem`) prints them; pass that JSON or a file holding it.';

/**
 * `--log` takes the JSON that `emblem ct leafhash` prints (an array of {"ver","id","hash"|"index"}, or one such
 * object), inline or as a file path. Era-neutral LogPointers come out; the signer writes them in its era's form.
 */
export function parseLogOption(value: string): LogPointer[] {
  if (value.trim() === '') throw new UsageError(`--log is empty. ${LOG_HINT}`);
  const text = /^\s*[[{]/.test(value) ? value : readLogFile(value);
  if (text.trim() === '') throw new UsageError(`--log: ${value} is empty. ${LOG_HINT}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError('--log must be JSON: [{"ver":"v1","id":"<base64>","hash":"<base64>"}] or a file holding it');
  }
  const entries = Array.isArray(parsed) ? parsed : [parsed];
  // An endorsement that carries "log" is one whose key must be committed in CT (a root endorsement); an empty
  // list signs fine and fails only at verification (ROOT_LOG_MISSING), so refuse it here.
  if (entries.length === 0) throw new UsageError(`--log lists no log entries. ${LOG_HINT}`);
  return entries.map((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new UsageError(`--log entry ${i} must be an object {"ver","id","hash"|"index"}`);
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
