import { sha256 } from '../core/hash.js';
import { fromBase64, toBase64 } from './bytes.js';
import { ctError, CtErrorCodes } from './errors.js';

/** Log states of the v3 schema (google/certificate-transparency-go loglist3). */
export type LogState = 'pending' | 'qualified' | 'usable' | 'readonly' | 'retired' | 'rejected';

/** States whose entries we accept as commitments: the log is (or was, for readonly) trusted and still serves. */
const ACCEPTED_STATES: ReadonlySet<LogState> = new Set(['qualified', 'usable', 'readonly']);

export interface ListedLog {
  kind: 'rfc6962' | 'tiled';
  description: string;
  operator: string;
  logId: Uint8Array;
  /** Standard padded base64 of logId, the form JWS-era tokens carry. */
  logIdBase64: string;
  /** DER SubjectPublicKeyInfo. */
  key: Uint8Array;
  /** RFC 6962 logs: API base URL ending in "/". */
  url?: string;
  /** Tiled logs. */
  submissionUrl?: string;
  monitoringUrl?: string;
  mmd: number | null;
  state: LogState | null;
  stateTimestamp: string | null;
}

export function isUsableState(state: LogState | null): boolean {
  // A log without a state field is taken as usable: private lists (like the local log's) often omit it.
  return state === null || ACCEPTED_STATES.has(state);
}

/** A merged view of one or more v3 log lists, indexed by log ID for each kind of log. */
export class LogDirectory {
  private readonly byKindAndId = new Map<string, ListedLog>();
  /** Entries dropped while reading (bad key, log_id not matching the key): reported, never fatal. */
  readonly warnings: string[] = [];

  constructor(logs: Iterable<ListedLog> = [], warnings: string[] = []) {
    for (const l of logs) this.add(l);
    this.warnings.push(...warnings);
  }

  add(log: ListedLog): void {
    const k = `${log.kind}:${log.logIdBase64}`;
    // First list wins: with Google's and Apple's lists merged, both describe the same log identically.
    if (!this.byKindAndId.has(k)) this.byKindAndId.set(k, log);
  }

  find(kind: ListedLog['kind'], logId: Uint8Array): ListedLog | undefined {
    return this.byKindAndId.get(`${kind}:${toBase64(logId)}`);
  }

  /** The log under any kind (to tell "unknown" from "listed, but as the other kind"). */
  findAny(logId: Uint8Array): ListedLog | undefined {
    return this.find('rfc6962', logId) ?? this.find('tiled', logId);
  }

  get logs(): ListedLog[] {
    return [...this.byKindAndId.values()];
  }

  static merge(dirs: LogDirectory[]): LogDirectory {
    const merged = new LogDirectory();
    for (const d of dirs) {
      for (const l of d.logs) merged.add(l);
      merged.warnings.push(...d.warnings);
    }
    return merged;
  }
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function httpUrl(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    const u = new URL(v);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
    return v.endsWith('/') ? v : `${v}/`;
  } catch {
    return undefined;
  }
}

function readState(v: unknown): { state: LogState | null; timestamp: string | null } {
  const s = obj(v);
  if (!s) return { state: null, timestamp: null };
  for (const name of ['usable', 'qualified', 'readonly', 'retired', 'rejected', 'pending'] as const) {
    const inner = obj(s[name]);
    if (inner) return { state: name, timestamp: typeof inner.timestamp === 'string' ? inner.timestamp : null };
  }
  return { state: null, timestamp: null };
}

/**
 * Reads a v3 log_list.json (operators[].logs[] and operators[].tiled_logs[]). The list is fetched over the
 * network and not signature-checked (neither prototype checks log_list.sig), so each entry is validated on its own
 * and malformed ones are dropped with a warning: one bad entry must not hide the others.
 */
export function parseLogList(json: unknown, source: string): LogDirectory {
  const top = obj(json);
  if (!top || !Array.isArray(top.operators)) {
    throw ctError(CtErrorCodes.CT_LOG_LIST_INVALID, `${source}: not a v3 log list (no "operators" array)`);
  }
  const logs: ListedLog[] = [];
  const warnings: string[] = [];
  for (const op of top.operators) {
    const operator = obj(op);
    if (!operator) continue;
    const operatorName = typeof operator.name === 'string' ? operator.name : '(unnamed operator)';
    for (const kind of ['logs', 'tiled_logs'] as const) {
      const entries = operator[kind];
      if (entries === undefined) continue;
      if (!Array.isArray(entries)) {
        warnings.push(`${source}: operator ${operatorName}: "${kind}" is not an array`);
        continue;
      }
      for (const raw of entries) {
        const e = obj(raw);
        const description = typeof e?.description === 'string' ? e.description : '(no description)';
        const key = fromBase64(e?.key);
        const logId = fromBase64(e?.log_id);
        if (!e || !key || !logId || logId.length !== 32) {
          warnings.push(`${source}: ${description}: missing or malformed key / log_id`);
          continue;
        }
        // RFC 6962 §3.2: the log ID is the SHA-256 of the key. A list that disagrees with itself is not trusted.
        const computed = toBase64(sha256(key));
        if (computed !== toBase64(logId)) {
          warnings.push(`${source}: ${description}: log_id does not match the SHA-256 of its key`);
          continue;
        }
        const { state, timestamp } = readState(e.state);
        const base = {
          description,
          operator: operatorName,
          logId,
          logIdBase64: toBase64(logId),
          key,
          mmd: typeof e.mmd === 'number' ? e.mmd : null,
          state,
          stateTimestamp: timestamp,
        };
        if (kind === 'logs') {
          const url = httpUrl(e.url);
          if (!url) {
            warnings.push(`${source}: ${description}: missing or malformed url`);
            continue;
          }
          logs.push({ kind: 'rfc6962', ...base, url });
        } else {
          const monitoringUrl = httpUrl(e.monitoring_url);
          const submissionUrl = httpUrl(e.submission_url);
          if (!monitoringUrl || !submissionUrl) {
            warnings.push(`${source}: ${description}: missing or malformed monitoring_url / submission_url`);
            continue;
          }
          logs.push({ kind: 'tiled', ...base, monitoringUrl, submissionUrl });
        }
      }
    }
  }
  return new LogDirectory(logs, warnings);
}
