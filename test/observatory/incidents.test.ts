import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stepIncidents, type IncidentEvent, type IncidentOptions, type ObservationSummary, type TargetIncidentState, type ProbeSummary } from '../../src/observatory/incidents.js';

const T0 = Date.parse('2026-11-01T12:00:00Z');
const at = (w: number) => new Date(T0 + w * 600_000);
const OPTS: IncidentOptions = { consecutiveWindows: 2, mode: 'validator', expiringWithinSeconds: 86_400 };

function obs(over: Partial<ObservationSummary> = {}): ObservationSummary {
  return {
    vantagePoint: 'a', status: 'protected', level: 'ENDORSED-TRUSTED', records: 'r1', endorsedBy: ['https://authority.example'],
    keys: ['kEmblem', 'kRoot'], expires: '2026-12-01T00:00:00.000Z', leafIndex: 1, ...over,
  };
}

/** Runs windows; each element is the observations of one window (optionally with a probe). */
function run(windows: Array<ObservationSummary[] | { o: ObservationSummary[]; probe: ProbeSummary }>, options = OPTS): { events: Array<IncidentEvent & { window: number }>; state: TargetIncidentState | null } {
  let state: TargetIncidentState | null = null;
  const events: Array<IncidentEvent & { window: number }> = [];
  windows.forEach((w, i) => {
    const input = Array.isArray(w) ? { target: 't.example', observations: w } : { target: 't.example', observations: w.o, probe: w.probe };
    const r = stepIncidents(state, input, at(i), options);
    state = r.state;
    events.push(...r.events.map((e) => ({ ...e, window: i })));
  });
  return { events, state };
}

const good = () => [obs(), obs({ vantagePoint: 'b' })];
const both = (o: Partial<ObservationSummary>) => [obs(o), obs({ ...o, vantagePoint: 'b' })];

describe('incident state machine', () => {
  it('steady protected observations open nothing', () => {
    assert.deepEqual(run([good(), good(), good(), good()]).events, []);
  });

  it('EMBLEM_MISSING opens on the second consecutive window and closes after two clear ones', () => {
    const missing = both({ status: 'no-emblem', level: null, records: 'none', endorsedBy: [], keys: [], expires: null });
    const { events } = run([good(), missing, missing, missing, good(), good()]);
    assert.deepEqual(events.map((e) => [e.kind, e.type, e.window, e.severity]), [
      ['opened', 'EMBLEM_MISSING', 2, 'critical'],
      ['closed', 'EMBLEM_MISSING', 5, 'critical'],
    ]);
    assert.deepEqual(events[0]!.observations, [1, 1, 1, 1], 'the leaves of both holding windows');
  });

  it('a single bad window is not an incident (multi-window rule)', () => {
    const missing = both({ status: 'nxdomain', level: null, records: 'nx' });
    assert.deepEqual(run([good(), missing, good(), missing, good()]).events, []);
  });

  it('consecutiveWindows is configurable', () => {
    const missing = both({ status: 'nxdomain', level: null, records: 'nx' });
    const { events } = run([good(), missing, missing, missing], { ...OPTS, consecutiveWindows: 3 });
    assert.deepEqual(events.map((e) => [e.type, e.window]), [['EMBLEM_MISSING', 3]]);
    assert.deepEqual(run([good(), missing], { ...OPTS, consecutiveWindows: 1 }).events.map((e) => e.window), [1]);
  });

  it('LEVEL_DROPPED for a lower level or an expired emblem, and only that (no KEY_CHANGED besides)', () => {
    const lower = both({ level: 'ORGANIZATIONAL-UNTRUSTED', endorsedBy: [], keys: ['kNew', 'kRootNew'], records: 'r2' });
    assert.deepEqual(run([good(), lower, lower]).events.map((e) => [e.type, e.detail]), [['LEVEL_DROPPED', 'ENDORSED-TRUSTED -> ORGANIZATIONAL-UNTRUSTED']]);
    const expired = both({ status: 'expired', level: null });
    assert.deepEqual(run([good(), expired, expired]).events.map((e) => [e.type, e.detail]), [['LEVEL_DROPPED', 'ENDORSED-TRUSTED -> expired']]);
  });

  it('ENDORSEMENT_REMOVED when one of two authorities stops endorsing at the same level', () => {
    const two = both({ endorsedBy: ['https://a.example', 'https://b.example'] });
    const one = both({ endorsedBy: ['https://a.example'], records: 'r3' });
    assert.deepEqual(run([two, one, one]).events.map((e) => [e.type, e.severity, e.detail]), [['ENDORSEMENT_REMOVED', 'warning', 'no longer endorsed by https://b.example']]);
  });

  it('KEY_CHANGED opens once for a rotation at the same level, is learned, and closes', () => {
    const rotated = both({ keys: ['kEmblem2', 'kRoot'], records: 'r4' });
    const { events } = run([good(), rotated, rotated, rotated, rotated, rotated]);
    assert.deepEqual(events.map((e) => [e.kind, e.type, e.window]), [
      ['opened', 'KEY_CHANGED', 2],
      ['closed', 'KEY_CHANGED', 4],
    ]);
  });

  it('INCONSISTENT when vantage points disagree; the same records in another order are consistent', () => {
    const split = [obs(), obs({ vantagePoint: 'b', records: 'other' })];
    const { events } = run([good(), split, split]);
    assert.deepEqual(events.map((e) => e.type), ['INCONSISTENT']);
    // Order-independence is the digest's job (recordsDigest, tested in observation.test.ts): equal digests agree.
    assert.deepEqual(run([good(), good(), good()]).events, []);
  });

  it('while vantage points disagree, other conditions are not judged (no EMBLEM_MISSING from one side)', () => {
    const split = [obs(), obs({ vantagePoint: 'b', status: 'no-emblem', level: null, records: 'none' })];
    assert.deepEqual(run([good(), split, split, split]).events.map((e) => e.type), ['INCONSISTENT']);
  });

  it('a vantage point that times out is not an incident; all of them failing judges nothing', () => {
    const oneDown = [obs(), obs({ vantagePoint: 'b', status: 'error', level: null, records: '' })];
    assert.deepEqual(run([good(), oneDown, oneDown, oneDown]).events, []);
    const allDown = both({ status: 'error', level: null, records: '' });
    assert.deepEqual(run([good(), allDown, allDown, allDown]).events, []);
    // Errors in between do not reset a holding condition: missing, error, missing opens.
    const missing = both({ status: 'no-emblem', level: null, records: 'none' });
    assert.deepEqual(run([good(), missing, allDown, missing]).events.map((e) => [e.type, e.window]), [['EMBLEM_MISSING', 3]]);
  });

  it('a target never seen protected raises nothing when it has no emblem', () => {
    const none = both({ status: 'no-emblem', level: null, records: 'none' });
    assert.deepEqual(run([none, none, none]).events, []);
  });

  it('EXPIRING only in owner mode, when the emblem lapses within expiringWithinSeconds', () => {
    const soon = both({ expires: new Date(T0 + 3_600_000 * 30).toISOString() }); // window 1 is T0+10min: 30 h left
    const owner = { ...OPTS, mode: 'owner' as const, expiringWithinSeconds: 2 * 86_400 };
    assert.deepEqual(run([good(), soon, soon], owner).events.map((e) => [e.type, e.severity]), [['EXPIRING', 'warning']]);
    assert.deepEqual(run([good(), soon, soon]).events, [], 'validator mode: no EXPIRING');
  });

  it('UNREACHABLE only in owner mode from probes', () => {
    const down: ProbeSummary = { reachable: false, detail: 'no connection to port 443' };
    const up: ProbeSummary = { reachable: true, detail: 'open' };
    const owner = { ...OPTS, mode: 'owner' as const };
    const ws = [{ o: good(), probe: up }, { o: good(), probe: down }, { o: good(), probe: down }, { o: good(), probe: up }, { o: good(), probe: up }];
    assert.deepEqual(run(ws, owner).events.map((e) => [e.kind, e.type, e.window]), [['opened', 'UNREACHABLE', 2], ['closed', 'UNREACHABLE', 4]]);
    assert.deepEqual(run(ws).events, [], 'validator mode ignores probe results');
  });

  it('is pure: the input state is not modified', () => {
    const r1 = stepIncidents(null, { target: 't', observations: good() }, at(0), OPTS);
    const frozen = JSON.stringify(r1.state);
    stepIncidents(r1.state, { target: 't', observations: both({ status: 'nxdomain', level: null }) }, at(1), OPTS);
    assert.equal(JSON.stringify(r1.state), frozen);
  });
});
