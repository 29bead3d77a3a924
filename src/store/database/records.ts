import { EmblemError } from '../../core/errors.js';
import type {
  IncidentRecord,
  IncidentSeverity,
  IncidentType,
  NewIncident,
  ObservationIndexRecord,
  TargetStateRecord,
} from '../../observatory/store.js';
import { StoreErrorCodes } from './errors.js';
import { StoreLimits } from './limits.js';

/**
 * Checks shared by both backends, so SQLite and PostgreSQL accept and refuse exactly the same records (the shared
 * test suite holds them to it). A refused record is a caller bug: STORE_INPUT_INVALID, before any write.
 */

const INCIDENT_TYPES: ReadonlySet<string> = new Set<IncidentType>([
  'EMBLEM_MISSING',
  'LEVEL_DROPPED',
  'ENDORSEMENT_REMOVED',
  'KEY_CHANGED',
  'EXPIRING',
  'INCONSISTENT',
  'UNREACHABLE',
  'CT_UNEXPECTED_CERTIFICATE',
  'CT_LOG_INCONSISTENT',
]);
const SEVERITIES: ReadonlySet<string> = new Set<IncidentSeverity>(['critical', 'warning', 'info']);

function invalid(message: string): EmblemError {
  return new EmblemError(StoreErrorCodes.STORE_INPUT_INVALID, message);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkText(what: string, value: unknown, maxBytes: number, allowEmpty = false): string {
  if (typeof value !== 'string') throw invalid(`${what} must be a string`);
  if (!allowEmpty && value.length === 0) throw invalid(`${what} must not be empty`);
  // A NUL cannot be stored in PostgreSQL text; refuse it in both backends alike.
  if (value.includes('\u0000')) throw invalid(`${what} contains a NUL character`);
  // A lone surrogate has no UTF-8 form: both databases would store U+FFFD instead, changing the text silently.
  if (LONE_SURROGATE.test(value)) throw invalid(`${what} is not well-formed Unicode (lone surrogate)`);
  if (Buffer.byteLength(value, 'utf8') > maxBytes) throw invalid(`${what} is longer than ${maxBytes} bytes`);
  return value;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * Times are ISO-8601 UTC strings, stored in the one form Date#toISOString writes (milliseconds, four-digit year):
 * then text order is time order in both backends ("...05Z" would sort after "...05.500Z"), so range queries and
 * "oldest first" need no date type. Other spellings of a UTC time are accepted and normalised to that form.
 */
export function checkTime(what: string, value: unknown): string {
  const text = checkText(what, value, StoreLimits.maxShortTextBytes);
  const ms = ISO_UTC.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw invalid(`${what} must be an ISO-8601 UTC time such as 2026-01-02T03:04:05.000Z, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return new Date(ms).toISOString();
}

export function checkLeafIndex(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${what} must be a non-negative integer`);
  }
  return value;
}

export function checkTargetState(r: TargetStateRecord): TargetStateRecord {
  return {
    target: checkText('target', r.target, StoreLimits.maxShortTextBytes),
    state: checkText('state', r.state, StoreLimits.maxStateBytes, true),
    updated: checkTime('updated', r.updated),
  };
}

export function checkTargetName(target: unknown): string {
  return checkText('target', target, StoreLimits.maxShortTextBytes);
}

export function checkObservation(r: ObservationIndexRecord): ObservationIndexRecord {
  return {
    target: checkText('target', r.target, StoreLimits.maxShortTextBytes),
    time: checkTime('time', r.time),
    vantagePoint: checkText('vantagePoint', r.vantagePoint, StoreLimits.maxShortTextBytes),
    status: checkText('status', r.status, StoreLimits.maxShortTextBytes),
    leafIndex: r.leafIndex === null ? null : checkLeafIndex('leafIndex', r.leafIndex),
  };
}

export function checkLeafIndexes(what: string, values: readonly number[]): number[] {
  if (!Array.isArray(values)) throw invalid(`${what} must be an array of leaf indexes`);
  if (values.length > StoreLimits.maxIncidentObservations) {
    throw invalid(`${what} holds more than ${StoreLimits.maxIncidentObservations} leaf indexes`);
  }
  return values.map((v, i) => checkLeafIndex(`${what}[${i}]`, v));
}

export function checkNewIncident(i: NewIncident): NewIncident {
  if (typeof i.type !== 'string' || !INCIDENT_TYPES.has(i.type)) throw invalid(`unknown incident type ${JSON.stringify(i.type)}`);
  if (typeof i.severity !== 'string' || !SEVERITIES.has(i.severity)) {
    throw invalid(`unknown incident severity ${JSON.stringify(i.severity)}`);
  }
  return {
    type: i.type,
    target: checkText('target', i.target, StoreLimits.maxShortTextBytes),
    severity: i.severity,
    opened: checkTime('opened', i.opened),
    observations: checkLeafIndexes('observations', i.observations),
    detail: checkText('detail', i.detail, StoreLimits.maxDetailBytes, true),
  };
}

export function checkIncidentId(id: unknown): number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw invalid('incident id must be a positive integer');
  return id;
}

export function checkCursor(key: unknown, value?: unknown): void {
  checkText('cursor key', key, StoreLimits.maxShortTextBytes);
  if (value !== undefined) checkText('cursor value', value, StoreLimits.maxCursorValueBytes, true);
}

/** The arguments of closeIncident(), checked: the id, the closing time, the leaf indexes to add. */
export function checkIncidentClose(id: unknown, closed: unknown, observations: readonly number[]): { id: number; closed: string; added: number[] } {
  return { id: checkIncidentId(id), closed: checkTime('closed', closed), added: checkLeafIndexes('observations', observations) };
}

/**
 * The query of incidents(filter), oldest first, the same in both backends; `placeholder(n)` writes the n-th
 * parameter (1-based) in the backend's syntax.
 */
export function incidentsQuery(filter: { open?: boolean; target?: string }, placeholder: (n: number) => string): { sql: string; args: string[] } {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.open === true) where.push('closed IS NULL');
  if (filter.open === false) where.push('closed IS NOT NULL');
  if (filter.target !== undefined) {
    args.push(checkTargetName(filter.target));
    where.push(`target = ${placeholder(args.length)}`);
  }
  return { sql: `SELECT * FROM observatory_incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened, id`, args };
}

/** The row limit of observations(): default and ceiling StoreLimits.maxObservationsPerQuery. */
export function observationLimit(limit: number | undefined): number {
  if (limit === undefined) return StoreLimits.maxObservationsPerQuery;
  if (!Number.isSafeInteger(limit) || limit < 1) throw invalid('limit must be a positive integer');
  return Math.min(limit, StoreLimits.maxObservationsPerQuery);
}

/** Later records for the same target replace earlier ones, as if written one after the other. */
export function lastPerTarget(records: readonly TargetStateRecord[]): TargetStateRecord[] {
  const byTarget = new Map<string, TargetStateRecord>();
  for (const r of records) {
    const checked = checkTargetState(r);
    byTarget.delete(checked.target);
    byTarget.set(checked.target, checked);
  }
  return [...byTarget.values()];
}

/** The incident columns as both backends return them (ids and leaf indexes as numbers or decimal strings). */
export interface IncidentRow {
  id: number | string;
  type: string;
  target: string;
  severity: string;
  opened: string;
  closed: string | null;
  observations: string;
  detail: string;
}

export function incidentFromRow(row: IncidentRow): IncidentRecord {
  return {
    id: toSafeInteger(row.id),
    type: row.type as IncidentType,
    target: row.target,
    severity: row.severity as IncidentSeverity,
    opened: row.opened,
    closed: row.closed,
    observations: JSON.parse(row.observations) as number[],
    detail: row.detail,
  };
}

export interface ObservationRow {
  target: string;
  time: string;
  vantage_point: string;
  status: string;
  leaf_index: number | string | null;
}

export function observationFromRow(row: ObservationRow): ObservationIndexRecord {
  return {
    target: row.target,
    time: row.time,
    vantagePoint: row.vantage_point,
    status: row.status,
    leafIndex: row.leaf_index === null ? null : toSafeInteger(row.leaf_index),
  };
}

/** PostgreSQL returns BIGINT as a decimal string (it may exceed 2^53); ours never do, but check rather than trust. */
export function toSafeInteger(value: number | string | bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new EmblemError(StoreErrorCodes.STORE_QUERY_FAILED, `the database returned ${String(value)} where an integer was expected`);
  }
  return n;
}

/** Leaf indexes of an incident: those it had, then the new ones it did not have yet, in order. */
export function mergeObservations(existing: readonly number[], added: readonly number[]): number[] {
  const seen = new Set(existing);
  const out = [...existing];
  for (const leaf of added) {
    if (!seen.has(leaf)) {
      seen.add(leaf);
      out.push(leaf);
    }
  }
  return out.slice(0, StoreLimits.maxIncidentObservations);
}

/**
 * An incident's leaf indexes without those at `size` or later (lost in a crash: not in a published checkpoint), and
 * its detail with a note saying so (kept within StoreLimits.maxDetailBytes). Null when nothing was dropped.
 */
export function withoutLeavesFrom(row: IncidentRow, size: number): { observations: number[]; detail: string; dropped: number[] } | null {
  const all = incidentFromRow(row).observations;
  const dropped = all.filter((l) => l >= size);
  if (dropped.length === 0) return null;
  const note = ` [repaired after a crash: observation leaves ${dropped.join(', ')} were not in a published checkpoint (log size ${size}) and were dropped]`;
  let base = row.detail;
  while (base.length > 0 && Buffer.byteLength(base + note) > StoreLimits.maxDetailBytes) base = base.slice(0, -256);
  const detail = base + note;
  return { observations: all.filter((l) => l < size), detail, dropped };
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
