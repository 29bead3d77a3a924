import { EmblemError } from '../core/errors.js';
import { ScanErrorCodes } from './errors.js';
import { ScanLimits } from './limits.js';
import type { PrefetchedRecords } from './scan-target.js';

/**
 * Reads one line of ZDNS output (https://github.com/zmap/zdns), in either layout:
 *   v1: {"name":"a.example","status":"NOERROR","data":{"answers":[{"type":"TXT","name":"a.example","answer":"..."}]}}
 *   v2: {"name":"a.example","results":{"TXT":{"status":"NOERROR","data":{"answers":[...]}}, "A":{...}}}
 * ZDNS prints a TXT RR's character-strings joined by "\n"; ADEM values never contain a newline, so the joins are
 * removed to get the concatenated value DNS-01 asks for (an `answer` given as an array is joined the same way).
 * IHLE answers are taken when their type is "IHLE" or "TYPE<ihleType>" and the answer is RFC 3597 `\# len hex` or
 * plain hex. Everything here is untrusted input: shapes are checked and counts bounded; a bad line is an error
 * for that target only.
 */
export function parseZdnsLine(line: string, ihleType: number): { name: string; records: PrefetchedRecords } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new EmblemError(ScanErrorCodes.INPUT_INVALID, 'ZDNS line is not JSON');
  }
  if (!isObject(value) || typeof value.name !== 'string' || value.name.length === 0 || value.name.length > 1024) {
    throw new EmblemError(ScanErrorCodes.INPUT_INVALID, 'ZDNS line has no "name"');
  }
  const records: PrefetchedRecords = { rcode: 'NOERROR', txtValues: [], ihleRdatas: [], addresses: [] };
  const lookups: Array<{ status: unknown; data: unknown }> = [];
  if (isObject(value.results)) {
    for (const r of Object.values(value.results).slice(0, 16)) if (isObject(r)) lookups.push({ status: r.status, data: r.data });
  } else {
    lookups.push({ status: value.status, data: value.data });
  }
  let statuses = 0;
  let nxdomain = false;
  let failure: string | null = null;
  let budget: number = ScanLimits.maxPrefetchedAnswers;
  for (const lookup of lookups) {
    const status = typeof lookup.status === 'string' ? lookup.status.toUpperCase() : 'NOERROR';
    statuses++;
    if (status === 'NXDOMAIN') nxdomain = true;
    else if (status !== 'NOERROR') failure ??= status;
    if (!isObject(lookup.data) || !Array.isArray(lookup.data.answers)) continue;
    for (const answer of lookup.data.answers) {
      if (budget-- <= 0) break;
      if (!isObject(answer) || typeof answer.type !== 'string') continue;
      const type = answer.type.toUpperCase();
      if (type === 'TXT') {
        const text = Array.isArray(answer.answer) ? answer.answer.filter((s) => typeof s === 'string').join('') : answer.answer;
        if (typeof text === 'string') records.txtValues.push(Buffer.from(text.replace(/\n/g, ''), 'utf8'));
      } else if (type === 'A' || type === 'AAAA') {
        if (typeof answer.answer === 'string' && answer.answer.length <= 64) records.addresses.push(answer.answer);
      } else if (type === 'IHLE' || type === `TYPE${ihleType}`) {
        const bytes = typeof answer.answer === 'string' ? genericRdataBytes(answer.answer) : null;
        if (bytes) records.ihleRdatas.push(bytes);
      }
    }
  }
  // A lookup that failed (SERVFAIL, TIMEOUT...) makes the whole target an error unless another said NXDOMAIN.
  records.rcode = nxdomain ? 'NXDOMAIN' : failure ?? 'NOERROR';
  if (statuses === 0) records.rcode = 'NOERROR';
  return { name: value.name, records };
}

/** `\# 3 abcdef` (RFC 3597) or bare hex, whitespace allowed -> bytes; null when it is neither. */
function genericRdataBytes(text: string): Buffer | null {
  const m = /^\\#\s+(\d{1,5})\s*([0-9a-fA-F\s]*)$/.exec(text.trim());
  const hex = (m ? m[2]! : text).replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return null;
  const bytes = Buffer.from(hex, 'hex');
  if (m && Number(m[1]) !== bytes.length) return null;
  return bytes;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
