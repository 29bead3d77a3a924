import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { backoffSeconds, renewalTime, schedule, type ScheduledAsset, type ScheduleWarning } from '../../src/org/scheduler.js';

const DAY = 86_400;
const T0 = 1_793_534_400; // 2026-11-01T12:00:00Z

/** Small deterministic PRNG (mulberry32) so the simulation is the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimResult {
  lapses: Array<{ asset: string; at: number }>;
  warnings: Array<ScheduleWarning & { at: number }>;
  renewals: number;
  earlyRenewals: number;
}

/** Drives the pure scheduler over `days` days: each due asset's apply fails when `fails(now)` says so. */
function simulate(days: number, fails: (now: number, asset: string) => boolean, s = { lifetime: 7 * DAY, renewBefore: Math.floor((7 * DAY) / 3) }): SimResult {
  const assets: ScheduledAsset[] = ['clinic.hospital.example', 'ward.hospital.example', '*.labs.hospital.example'].map((asset) => ({ asset, withdrawn: false, validUntil: null, pending: false, failures: 0, lastAttempt: null }));
  const out: SimResult = { lapses: [], warnings: [], renewals: 0, earlyRenewals: 0 };
  let now = T0;
  const end = T0 + days * DAY;
  let steps = 0;
  while (now < end) {
    assert.ok(++steps < 1_000_000, 'scheduler loops');
    const plan = schedule(assets, s, now);
    for (const w of plan.warnings) out.warnings.push({ ...w, at: now });
    for (const name of plan.due) {
      const a = assets.find((x) => x.asset === name)!;
      if (a.validUntil !== null && a.validUntil - now > s.renewBefore * 1.1 + 1) out.earlyRenewals++; // jitter: up to 10% earlier
      if (fails(now, name)) {
        a.failures += 1;
        a.lastAttempt = now;
      } else {
        a.validUntil = now + s.lifetime;
        a.failures = 0;
        a.lastAttempt = now;
        out.renewals++;
      }
    }
    const next = schedule(assets, s, now).nextWake;
    assert.ok(next !== null, 'something is always scheduled');
    const step = Math.max(1, next - now);
    // Check for a lapse at every instant in between: validity must cover the whole step.
    for (const a of assets) if (a.validUntil !== null && a.validUntil < Math.min(now + step, end)) out.lapses.push({ asset: a.asset, at: a.validUntil });
    now += step;
  }
  return out;
}

test('400 simulated days, 30% of attempts failing and a 1-day outage: no lapse, no early renewal', () => {
  const rand = prng(42);
  const outage = [T0 + 100 * DAY, T0 + 101 * DAY];
  const r = simulate(400, (now) => (now >= outage[0]! && now < outage[1]!) || rand() < 0.3);
  assert.deepEqual(r.lapses, []);
  assert.equal(r.earlyRenewals, 0);
  // Renewal every ~(7 - 7/3) days per asset: 3 assets * 400 / 4.67 ≈ 257, plus the first signing.
  assert.ok(r.renewals > 240 && r.renewals < 290, `renewals ${r.renewals}`);
});

test('a 3-day outage at renewal time: loud EMBLEM_WILL_LAPSE warnings before the emblem lapses, EMBLEM_LAPSED after', () => {
  const outage = [T0 + 200 * DAY, T0 + 203 * DAY + 12 * 3600];
  const r = simulate(400, (now) => now >= outage[0]! && now < outage[1]!);
  assert.ok(r.lapses.length > 0, 'a 3.5-day outage is longer than the 2.3-day margin');
  for (const lapse of r.lapses) {
    const early = r.warnings.find((w) => w.asset === lapse.asset && w.code === 'EMBLEM_WILL_LAPSE' && w.at < lapse.at);
    assert.ok(early, `warned before ${lapse.asset} lapsed`);
    assert.ok(lapse.at - early.at >= 3600, 'at least an hour of warning');
  }
  assert.ok(r.warnings.some((w) => w.code === 'EMBLEM_LAPSED'));
  // After the outage everything is renewed and no more lapses occur.
  assert.ok(r.lapses.every((l) => l.at < outage[1]!));
});

test('backoff grows from 10 s, capped at a tenth of the margin and an hour; jitter only moves renewal earlier', () => {
  const s = { lifetime: 7 * DAY, renewBefore: 2 * DAY };
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffSeconds(n, s)), [10, 20, 40, 80]);
  assert.equal(backoffSeconds(30, s), 3600);
  assert.equal(backoffSeconds(30, { lifetime: 30, renewBefore: 15 }), 1);
  for (const asset of ['a.example', 'b.example', 'c.example']) {
    const at = renewalTime({ asset, withdrawn: false, validUntil: T0, pending: false, failures: 0, lastAttempt: null }, s)!;
    assert.ok(at <= T0 - s.renewBefore && at >= T0 - s.renewBefore * 1.1);
  }
  // Withdrawn assets are never due.
  assert.deepEqual(schedule([{ asset: 'x', withdrawn: true, validUntil: null, pending: false, failures: 0, lastAttempt: null }], s, T0), { due: [], nextWake: null, warnings: [] });
});

test('a set signed by another emblem key (rotation, restored backup) is due now, not at its renewal time', () => {
  const s = { lifetime: 7 * DAY, renewBefore: 2 * DAY, emblemKid: 'new-kid' };
  const asset = (signedBy: string | null | undefined): ScheduledAsset => ({ asset: 'clinic.hospital.example', withdrawn: false, validUntil: T0 + 6 * DAY, pending: false, failures: 0, lastAttempt: null, ...(signedBy !== undefined ? { signedBy } : {}) });
  // Rotated: the published set is the old key's.
  assert.deepEqual(schedule([asset('old-kid')], s, T0).due, ['clinic.hospital.example']);
  // A restored backup of the state (or of the keys): the kids differ the other way round; still due.
  assert.deepEqual(schedule([asset('newer-kid-from-before-the-restore')], s, T0).due, ['clinic.hospital.example']);
  // Signed by the configured key, or by a key nobody recorded: the normal schedule.
  for (const a of [asset('new-kid'), asset(null), asset(undefined)]) {
    const r = schedule([a], s, T0);
    assert.deepEqual(r.due, []);
    assert.equal(r.nextWake, renewalTime(a, s));
  }
  // No configured kid known: nothing to compare with.
  assert.deepEqual(schedule([asset('old-kid')], { lifetime: s.lifetime, renewBefore: s.renewBefore }, T0).due, []);
  // Backoff still applies after a failed re-signing.
  const failed = { ...asset('old-kid'), failures: 2, lastAttempt: T0 };
  assert.deepEqual(schedule([failed], s, T0 + 5).due, []);
  assert.equal(schedule([failed], s, T0 + 5).nextWake, T0 + backoffSeconds(2, s));
});

test('a set endorsed by another root key (org rotate --root-key) is due now; an unrecorded root kid keeps the schedule', () => {
  const s = { lifetime: 7 * DAY, renewBefore: 2 * DAY, emblemKid: 'emblem', rootKid: 'new-root' };
  const asset = (endorsedBy: string | null): ScheduledAsset => ({ asset: 'clinic.hospital.example', withdrawn: false, validUntil: T0 + 6 * DAY, pending: false, failures: 0, lastAttempt: null, signedBy: 'emblem', endorsedBy });
  assert.deepEqual(schedule([asset('old-root')], s, T0).due, ['clinic.hospital.example']);
  for (const a of [asset('new-root'), asset(null)]) assert.deepEqual(schedule([a], s, T0).due, []);
});

test('400 simulated days with an emblem-key rotation on day 150 and failures: re-signed at once, no lapse', () => {
  const rand = prng(7);
  const s = { lifetime: 7 * DAY, renewBefore: Math.floor((7 * DAY) / 3), emblemKid: 'k1' };
  const assets: ScheduledAsset[] = ['clinic.hospital.example', 'ward.hospital.example'].map((asset) => ({ asset, withdrawn: false, validUntil: null, pending: false, failures: 0, lastAttempt: null, signedBy: null }));
  const rotateAt = T0 + 150 * DAY;
  let rotated = false;
  const resignedAfterRotation: number[] = [];
  let now = T0;
  while (now < T0 + 400 * DAY) {
    if (!rotated && now >= rotateAt) {
      s.emblemKid = 'k2';
      rotated = true;
    }
    const plan = schedule(assets, s, now);
    for (const name of plan.due) {
      const a = assets.find((x) => x.asset === name)!;
      if (rand() < 0.2) {
        a.failures += 1;
        a.lastAttempt = now;
        continue;
      }
      if (rotated && a.signedBy === 'k1') resignedAfterRotation.push(now - rotateAt);
      a.validUntil = now + s.lifetime;
      a.signedBy = s.emblemKid;
      a.failures = 0;
      a.lastAttempt = now;
    }
    const next = schedule(assets, s, now).nextWake!;
    const step = Math.max(1, next - now);
    // The simulated daemon also wakes at the rotation (org run watches the folder).
    const wake = !rotated && now + step > rotateAt ? rotateAt - now : step;
    for (const a of assets) assert.ok(a.validUntil === null || a.validUntil >= now + wake || now + wake > T0 + 400 * DAY, `${a.asset} lapsed at ${a.validUntil}`);
    now += Math.max(1, wake);
  }
  assert.equal(resignedAfterRotation.length, 2, 'each asset re-signed once with the new key');
  // Within the backoff of a few failed attempts, not days later at the renewal time.
  for (const d of resignedAfterRotation) assert.ok(d < 600, `re-signed ${d} s after the rotation`);
  assert.ok(assets.every((a) => a.signedBy === 'k2'));
});
