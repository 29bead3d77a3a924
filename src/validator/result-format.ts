import type { CheckReport } from '../dns/name-check.js';
import { csvField, parseCsvLine } from './csv.js';
import type { ScanResult } from './scan-target.js';

export type OutputFormat = 'jsonl' | 'csv';

export const CSV_HEADER = 'index,target,status,level,issuer,endorsers,error';

/** What the summary needs from one result, readable back from either output format (for --resume). */
export interface ResultDigest {
  index: number;
  status: CheckReport['status'];
  level: string | null;
  issuer: string | null;
  endorsers: string[];
}

export function digestOf(result: ScanResult): ResultDigest {
  const set = result.report.sets[0];
  // A contested set is INVALID as a whole: its issuer and endorsers are those of the emblem that covers the target.
  const best = set?.contestedCoveredBy ? set.contested?.[set.contestedCoveredBy.candidate] : set;
  return { index: result.index, status: result.report.status, level: result.report.level, issuer: best?.issuer ?? null, endorsers: best?.endorsedBy ?? [] };
}

/** The first stable error code explaining the status (a discovery error, else the best set's first error). */
function errorCode(report: CheckReport): string {
  if (report.errors[0]) return String(report.errors[0].code);
  const best = report.sets[0];
  // indeterminate: why the commitment could not be checked (e.g. CT_LOG_UNREACHABLE), never a failure code.
  if (report.status === 'indeterminate') return best?.notEstablished?.[0]?.codes[0] ?? 'COMMITMENT_UNAVAILABLE';
  if (report.status === 'contested') return 'MULTIPLE_EMBLEMS';
  const e = report.status === 'protected' || report.status === 'not-covered' ? undefined : best?.errors[0];
  return e ? String(e.code) : '';
}

/**
 * One output line, newline included. JSONL: the `emblem check --json` object with `index` first. CSV: index,
 * target, status, level, issuer, endorsers (space-separated), error code. Either way a line carries its input index,
 * which is what --resume and the distributed collector rely on.
 */
export function formatResult(result: ScanResult, format: OutputFormat): string {
  if (format === 'jsonl') return `${JSON.stringify({ index: result.index, ...result.report })}\n`;
  const d = digestOf(result);
  const fields = [String(d.index), result.report.target, d.status, d.level ?? '', d.issuer ?? '', d.endorsers.join(' '), errorCode(result.report)];
  return `${fields.map(csvField).join(',')}\n`;
}

const STATUSES = new Set(['protected', 'indeterminate', 'contested', 'not-covered', 'expired', 'invalid', 'no-emblem', 'nxdomain', 'error']);

/** Reads a line written by formatResult back; null when it is not one (a foreign or corrupted file). */
export function parseResultLine(line: string, format: OutputFormat): ResultDigest | null {
  try {
    if (format === 'jsonl') {
      const v = JSON.parse(line) as Partial<CheckReport> & { index?: unknown };
      if (typeof v.index !== 'number' || !Number.isSafeInteger(v.index) || typeof v.status !== 'string' || !STATUSES.has(v.status)) return null;
      const best = Array.isArray(v.sets) ? v.sets[0] : undefined;
      return {
        index: v.index,
        status: v.status,
        level: typeof v.level === 'string' ? v.level : null,
        issuer: typeof best?.issuer === 'string' ? best.issuer : null,
        endorsers: Array.isArray(best?.endorsedBy) ? best.endorsedBy.filter((x): x is string => typeof x === 'string') : [],
      };
    }
    const f = parseCsvLine(line);
    if (f.length !== 7 || !/^\d+$/.test(f[0]!) || !STATUSES.has(f[2]!)) return null;
    return { index: Number(f[0]), status: f[2] as CheckReport['status'], level: f[3] || null, issuer: f[4] || null, endorsers: f[5] ? f[5].split(' ') : [] };
  } catch {
    return null;
  }
}
