import { EmblemError } from '../../core/errors.js';
import { ScanErrorCodes } from '../errors.js';
import type { CheckReport } from '../../dns/name-check.js';
import { DEFAULT_IHLE_TYPE } from '../../dns/rr-type.js';
import type { PrefetchedRecords, ScanTarget } from '../scan-target.js';

/** The verification settings of one distributed scan, carried by every job so all workers verify alike. */
export interface QueueScanConfig {
  now: string;
  policy: 'spec' | 'prototype';
  /** Trusted public keys as JWK objects. */
  trustedKeys: unknown[];
  era: 'jws' | 'cwt' | 'any';
  ihleType: number;
  timeoutMs: number;
  attempts: number;
  skipCommitmentCheck: boolean;
}

/** A target as stored in Redis (JSON): bytes as base64. */
interface QueuedTarget {
  index: number;
  name: string;
  inputError?: string;
  prefetched?: { rcode: string; txt: string[]; ihle: string[]; addresses: string[] };
}

export interface QueueJobData {
  config: QueueScanConfig;
  /** Index of the first target; the job holds `targets.length` consecutive indexes. */
  first: number;
  targets: QueuedTarget[];
}

export interface QueueJobResult {
  results: Array<{ index: number; report: CheckReport }>;
}

export function encodeTarget(t: ScanTarget): QueuedTarget {
  const out: QueuedTarget = { index: t.index, name: t.name };
  if (t.inputError !== undefined) out.inputError = t.inputError;
  if (t.prefetched) {
    const b64 = (a: Uint8Array[]) => a.map((x) => Buffer.from(x).toString('base64'));
    out.prefetched = { rcode: t.prefetched.rcode, txt: b64(t.prefetched.txtValues), ihle: b64(t.prefetched.ihleRdatas), addresses: t.prefetched.addresses };
  }
  return out;
}

const isStringArray = (v: unknown, max: number): v is string[] => Array.isArray(v) && v.length <= max && v.every((x) => typeof x === 'string');

/**
 * Reads job data back from Redis. Redis is shared infrastructure, so its contents are checked like any input:
 * a malformed target becomes an INPUT_INVALID result for its index rather than crashing the worker.
 */
export function decodeTargets(data: unknown, maxTargets: number): { first: number; config: QueueScanConfig; targets: ScanTarget[] } {
  const d = data as Partial<QueueJobData> | null;
  if (!d || typeof d !== 'object' || !Number.isSafeInteger(d.first) || !Array.isArray(d.targets) || d.targets.length > maxTargets || !d.config || typeof d.config !== 'object') {
    throw new EmblemError(ScanErrorCodes.QUEUE_JOB_INVALID, 'job data is not an emblem scan batch');
  }
  const targets = d.targets.map((raw, i): ScanTarget => {
    const index = d.first! + i;
    const t = raw as Partial<QueuedTarget> | null;
    if (!t || typeof t !== 'object' || t.index !== index || typeof t.name !== 'string' || t.name.length > 1024) {
      return { index, name: '', inputError: 'queued target is malformed' };
    }
    const target: ScanTarget = { index, name: t.name };
    if (typeof t.inputError === 'string') target.inputError = t.inputError.slice(0, 1024);
    const p = t.prefetched;
    if (p !== undefined) {
      if (!p || typeof p.rcode !== 'string' || !isStringArray(p.txt, 512) || !isStringArray(p.ihle, 512) || !isStringArray(p.addresses, 512)) {
        return { index, name: t.name, inputError: 'queued prefetched answers are malformed' };
      }
      const bytes = (a: string[]) => a.map((x) => Buffer.from(x, 'base64'));
      const prefetched: PrefetchedRecords = { rcode: p.rcode.slice(0, 32), txtValues: bytes(p.txt), ihleRdatas: bytes(p.ihle), addresses: p.addresses };
      target.prefetched = prefetched;
    }
    return target;
  });
  return { first: d.first!, config: sanitizeConfig(d.config), targets };
}

/** The scan's settings as found in Redis, each field checked; anything odd falls back to the safe default. */
function sanitizeConfig(raw: unknown): QueueScanConfig {
  const c = raw as Partial<Record<keyof QueueScanConfig, unknown>>;
  const int = (v: unknown, min: number, max: number, fallback: number) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : fallback);
  const now = typeof c.now === 'string' && !Number.isNaN(new Date(c.now).getTime()) ? c.now : new Date().toISOString();
  return {
    now,
    policy: c.policy === 'prototype' ? 'prototype' : 'spec',
    trustedKeys: Array.isArray(c.trustedKeys) ? c.trustedKeys.slice(0, 64) : [],
    era: c.era === 'jws' || c.era === 'cwt' ? c.era : 'any',
    ihleType: int(c.ihleType, 1, 65535, DEFAULT_IHLE_TYPE),
    timeoutMs: int(c.timeoutMs, 1, 60_000, 3000),
    attempts: int(c.attempts, 1, 5, 2),
    // Only an explicit true skips CT: a garbled flag must not silently weaken verification.
    skipCommitmentCheck: c.skipCommitmentCheck === true,
  };
}

const STATUSES = new Set(['protected', 'indeterminate', 'contested', 'not-covered', 'expired', 'invalid', 'no-emblem', 'nxdomain', 'error']);

/** A job's return value as read back from Redis: only well-formed results for this job's own indexes count. */
export function decodeJobResult(value: unknown, first: number, count: number): Map<number, CheckReport> {
  const out = new Map<number, CheckReport>();
  const results = (value as Partial<QueueJobResult> | null)?.results;
  if (!Array.isArray(results)) return out;
  for (const r of results.slice(0, count)) {
    const index = (r as { index?: unknown })?.index;
    const report = (r as { report?: Partial<CheckReport> })?.report;
    if (typeof index !== 'number' || index < first || index >= first + count || out.has(index)) continue;
    if (!report || typeof report !== 'object' || typeof report.target !== 'string' || !STATUSES.has(String(report.status)) || !Array.isArray(report.sets) || !Array.isArray(report.errors)) continue;
    out.set(index, report as CheckReport);
  }
  return out;
}
