/**
 * The incident state machine: pure, no I/O, no clock. One step takes a target's state and everything observed about
 * it in one window and returns the new state and the incidents opened or closed. An incident opens only when its
 * condition holds in N consecutive windows and closes when it has been clear for as long (the multi-window approach
 * of IODA and Cloudflare's alerting: one lost packet or one lagging secondary is not an incident).
 *
 * A window where a condition cannot be judged (every vantage point failed, or they disagree) neither counts for nor
 * against it: "could not check" is never evidence of a change.
 */
import type { ResultLevel } from '../core/verify/report.js';
import { RESULT_ORDER } from '../core/verify/report.js';
import type { IncidentSeverity, IncidentType } from './store.js';

export const INCIDENT_SEVERITY: Record<IncidentType, IncidentSeverity> = {
  EMBLEM_MISSING: 'critical',
  LEVEL_DROPPED: 'critical',
  ENDORSEMENT_REMOVED: 'warning',
  KEY_CHANGED: 'warning',
  EXPIRING: 'warning',
  INCONSISTENT: 'warning',
  UNREACHABLE: 'critical',
  CT_UNEXPECTED_CERTIFICATE: 'critical',
  CT_LOG_INCONSISTENT: 'critical',
};

/** What one vantage point saw for one target in one window, reduced to what the machine compares. */
export interface ObservationSummary {
  vantagePoint: string;
  /** The `emblem check` status ("protected", "no-emblem", "nxdomain", "expired", ...) or "error". */
  status: string;
  level: ResultLevel | null;
  /** Order-independent digest of the emblem records answered: the same records in another order give the same digest. */
  records: string;
  /** Authorities endorsing the covering emblem's organisation. */
  endorsedBy: string[];
  /** Key ids of the covering emblem's chain (emblem key to root key). */
  keys: string[];
  /** ISO time the covering emblem (or its chain) lapses; null when unknown. */
  expires: string | null;
  leafIndex: number | null;
}

/** An owner-mode reachability probe of the target (TCP connect to the configured ports). */
export interface ProbeSummary {
  reachable: boolean;
  detail: string;
}

export interface WindowObservations {
  target: string;
  observations: ObservationSummary[];
  probe?: ProbeSummary;
}

export interface Baseline {
  status: string;
  level: ResultLevel | null;
  endorsedBy: string[];
  keys: string[];
}

export interface TargetIncidentState {
  v: 1;
  /** The best verified state seen: what a drop is measured against. Null until the target was first seen protected. */
  baseline: Baseline | null;
  /** Consecutive windows each condition held / was clear. */
  held: Partial<Record<IncidentType, number>>;
  cleared: Partial<Record<IncidentType, number>>;
  /** Leaf indexes of the observations of the windows in which the condition held (bounded by N x vantage points). */
  evidence: Partial<Record<IncidentType, number[]>>;
  open: IncidentType[];
}

export interface IncidentEvent {
  kind: 'opened' | 'closed';
  type: IncidentType;
  target: string;
  severity: IncidentSeverity;
  time: string;
  detail: string;
  observations: number[];
}

export interface IncidentOptions {
  consecutiveWindows: number;
  mode: 'validator' | 'owner';
  expiringWithinSeconds: number;
}

/**
 * The state without evidence leaf indexes >= `size`: after a crash the evidence log reopens at its last published
 * checkpoint and reuses later indexes, so a state saved before the crash may name observations that no longer exist.
 */
export function dropEvidenceFrom(state: TargetIncidentState, size: number): TargetIncidentState {
  const evidence: TargetIncidentState['evidence'] = {};
  for (const [type, leaves] of Object.entries(state.evidence) as Array<[IncidentType, number[]]>) evidence[type] = leaves.filter((l) => l < size);
  return { ...state, evidence };
}

export function initialIncidentState(): TargetIncidentState {
  return { v: 1, baseline: null, held: {}, cleared: {}, evidence: {}, open: [] };
}

const rank = (level: ResultLevel | null): number => (level === null ? -1 : RESULT_ORDER.indexOf(level));
const GOOD = new Set(['protected']);
const ABSENT = new Set(['no-emblem', 'nxdomain']);
const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

interface Condition {
  holds: boolean;
  detail: string;
}

function describe(o: Pick<ObservationSummary, 'status' | 'level'>): string {
  return o.level && (o.status === 'protected' || o.status === 'indeterminate') ? o.level : o.status;
}

/** Judges each condition for this window; a condition left out of the map could not be judged. */
function judge(state: TargetIncidentState, input: WindowObservations, now: Date, options: IncidentOptions): Map<IncidentType, Condition> {
  const c = new Map<IncidentType, Condition>();
  if (options.mode === 'owner' && input.probe) c.set('UNREACHABLE', { holds: !input.probe.reachable, detail: input.probe.detail });
  const answered = input.observations.filter((o) => o.status !== 'error');
  if (answered.length === 0) return c;
  const views = new Map<string, ObservationSummary[]>();
  for (const o of answered) {
    const key = `${o.status}|${o.records}`;
    views.set(key, [...(views.get(key) ?? []), o]);
  }
  if (views.size > 1) {
    const detail = [...views.values()].map((os) => `${os.map((o) => o.vantagePoint).join(',')}: ${describe(os[0]!)} [${os[0]!.records.slice(0, 12)}]`).join(' vs ');
    c.set('INCONSISTENT', { holds: true, detail });
    return c; // which side is right is unknown: the other conditions wait until the vantage points agree
  }
  c.set('INCONSISTENT', { holds: false, detail: '' });
  const view = answered[0]!;
  if (options.mode === 'owner' && GOOD.has(view.status) && view.expires !== null) {
    const left = (Date.parse(view.expires) - now.getTime()) / 1000;
    c.set('EXPIRING', { holds: left < options.expiringWithinSeconds, detail: `expires ${view.expires}` });
  } else if (options.mode === 'owner' && !GOOD.has(view.status)) {
    c.set('EXPIRING', { holds: false, detail: '' }); // already lapsed or gone: that is LEVEL_DROPPED / EMBLEM_MISSING
  }
  const base = state.baseline;
  if (base === null) return c;
  const missing = ABSENT.has(view.status);
  c.set('EMBLEM_MISSING', { holds: missing, detail: `${describe(base)} -> ${view.status}` });
  if (missing) {
    for (const t of ['LEVEL_DROPPED', 'ENDORSEMENT_REMOVED', 'KEY_CHANGED'] as const) c.set(t, { holds: false, detail: '' });
    return c;
  }
  // indeterminate: a commitment could not be checked, so a lower proven level is not evidence of a drop.
  if (view.status === 'indeterminate') return c;
  const dropped = !GOOD.has(view.status) || rank(view.level) < rank(base.level);
  c.set('LEVEL_DROPPED', { holds: dropped, detail: `${describe(base)} -> ${describe(view)}` });
  if (dropped) {
    c.set('ENDORSEMENT_REMOVED', { holds: false, detail: '' });
    c.set('KEY_CHANGED', { holds: false, detail: '' });
    return c;
  }
  const removed = base.endorsedBy.filter((e) => !view.endorsedBy.includes(e));
  c.set('ENDORSEMENT_REMOVED', { holds: removed.length > 0, detail: `no longer endorsed by ${removed.join(', ')}` });
  c.set('KEY_CHANGED', { holds: !sameSet(base.keys, view.keys), detail: `keys ${base.keys.join(',')} -> ${view.keys.join(',')}` });
  return c;
}

/**
 * One window for one target: (state, observations, now) -> (state', events). Pure and deterministic; `now` is the
 * window's time (used for EXPIRING and the events' times).
 */
export function stepIncidents(
  previous: TargetIncidentState | null,
  input: WindowObservations,
  now: Date,
  options: IncidentOptions,
): { state: TargetIncidentState; events: IncidentEvent[] } {
  const prev = previous ?? initialIncidentState();
  const state: TargetIncidentState = {
    v: 1,
    baseline: prev.baseline,
    held: { ...prev.held },
    cleared: { ...prev.cleared },
    evidence: { ...prev.evidence },
    open: [...prev.open],
  };
  const n = options.consecutiveWindows;
  const time = now.toISOString();
  const leaves = input.observations.map((o) => o.leafIndex).filter((l): l is number => l !== null);
  const events: IncidentEvent[] = [];
  const conditions = judge(prev, input, now, options);
  for (const [type, cond] of conditions) {
    const isOpen = state.open.includes(type);
    if (cond.holds) {
      state.held[type] = (state.held[type] ?? 0) + 1;
      state.cleared[type] = 0;
      state.evidence[type] = [...(state.evidence[type] ?? []), ...leaves].slice(-n * 16);
      if (!isOpen && state.held[type]! >= n) {
        state.open.push(type);
        events.push({ kind: 'opened', type, target: input.target, severity: INCIDENT_SEVERITY[type], time, detail: cond.detail, observations: state.evidence[type]! });
        state.evidence[type] = [];
      }
    } else {
      state.cleared[type] = (state.cleared[type] ?? 0) + 1;
      state.held[type] = 0;
      if (isOpen) state.evidence[type] = [...(state.evidence[type] ?? []), ...leaves].slice(-n * 16);
      else state.evidence[type] = [];
      if (isOpen && state.cleared[type]! >= n) {
        state.open = state.open.filter((t) => t !== type);
        events.push({ kind: 'closed', type, target: input.target, severity: INCIDENT_SEVERITY[type], time, detail: 'cleared', observations: state.evidence[type]! });
        state.evidence[type] = [];
      }
    }
    if (state.held[type] === 0 && state.cleared[type]! >= n && !state.open.includes(type)) {
      // Nothing to remember about a condition that is clear and closed: keeps the stored state small.
      delete state.held[type];
      delete state.cleared[type];
      delete state.evidence[type];
    }
  }

  // Moving the baseline: a consistent, protected view at least as strong as the baseline becomes the baseline when
  // nothing about it is suspicious; a key change is accepted once its incident has opened (recorded, then learned).
  const answered = input.observations.filter((o) => o.status !== 'error');
  const view = conditions.get('INCONSISTENT')?.holds === false ? answered[0] : undefined;
  if (view && GOOD.has(view.status)) {
    const fresh: Baseline = { status: view.status, level: view.level, endorsedBy: [...view.endorsedBy].sort(), keys: [...view.keys].sort() };
    const base = state.baseline;
    const keyChange = conditions.get('KEY_CHANGED');
    const endorsementLoss = conditions.get('ENDORSEMENT_REMOVED');
    if (base === null) state.baseline = fresh;
    else if (rank(view.level) >= rank(base.level) && !endorsementLoss?.holds) {
      if (!keyChange?.holds || state.open.includes('KEY_CHANGED')) state.baseline = fresh;
    }
  }
  return { state, events };
}

/** The stored form of the state (TargetStateRecord.state). */
export function encodeIncidentState(state: TargetIncidentState): string {
  return JSON.stringify(state);
}

/** Parses a stored state; an unreadable one (an older format, a damaged row) starts over rather than failing the target. */
export function decodeIncidentState(text: string | undefined): TargetIncidentState | null {
  if (text === undefined) return null;
  try {
    const s = JSON.parse(text) as TargetIncidentState;
    if (s && s.v === 1 && Array.isArray(s.open) && typeof s.held === 'object') return { ...s, evidence: s.evidence ?? {} };
  } catch {
    // fall through
  }
  return null;
}
