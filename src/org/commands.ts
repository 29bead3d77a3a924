import { EmblemError, reportError } from '../core/errors.js';
import { ExitCode } from '../cli/exit.js';
import { applyAll, withdraw, type OrgRuntime } from './apply.js';
import { probeName } from './assets.js';
import { settings } from './config.js';
import { lint } from './lint/index.js';
import { dueAt, renewalTime, schedule, signedByOtherKey, type ScheduledAsset, type ScheduleSettings } from './scheduler.js';
import { signingKid } from './set-kid.js';
import { assetState, loadState, NO_ENDORSEMENTS, saveAssets, type OrgState } from './state.js';
import { verifyAsset } from './verify.js';

const iso = (s: number | null | undefined) => (s === null || s === undefined ? null : new Date(s * 1000).toISOString());

export function scheduledAssets(rt: OrgRuntime, state: OrgState): ScheduledAsset[] {
  return rt.config.assets
    .filter((a) => probeName(a) !== null)
    .map((asset) => {
      const a = state.assets[asset];
      return { asset, withdrawn: a?.withdrawn ?? false, validUntil: a?.current?.validUntil ?? null, pending: !!a?.pending, failures: a?.failures ?? 0, lastAttempt: a?.lastAttempt ?? null, signedBy: signingKid(a?.current), endorsedBy: a?.current?.rootKid ?? null, endorsements: a?.current ? (a.current.endorsements ?? NO_ENDORSEMENTS) : null };
    });
}

/** The scheduler's settings: lifetime and margin from the config, and the configured emblem key's kid. */
export function scheduleSettings(rt: OrgRuntime): ScheduleSettings {
  const s = settings(rt.config);
  return { lifetime: s.lifetime, renewBefore: s.renewBefore, ...(rt.emblemKid ? { emblemKid: rt.emblemKid } : {}), ...(rt.rootKid ? { rootKid: rt.rootKid } : {}), ...(rt.endorsements ? { endorsements: rt.endorsements } : {}) };
}

/** The result of `org apply` (its --json output and the API's answer). */
export type ApplyResult =
  | { ok: false; refused: true; findings: Awaited<ReturnType<typeof lint>> }
  | { ok: boolean; assets: Awaited<ReturnType<typeof applyAll>>; findings: Awaited<ReturnType<typeof lint>> };

/** The workflow of `org apply` (CLI and API): lint (errors refuse, nothing changes), then the executor. */
export async function applyWorkflow(rt: OrgRuntime): Promise<ApplyResult> {
  const state = await loadState(rt.dir);
  const findings = await lint(rt.dir, rt.config, state, rt.now);
  if (findings.some((f) => f.severity === 'error')) return { ok: false, refused: true, findings };
  const outcomes = await applyAll(rt, state);
  return { ok: outcomes.every((o) => o.ok), assets: outcomes, findings };
}

/** `org apply`: lint (errors refuse), then the executor; exit 0 only when every asset verified. */
export async function applyCommand(rt: OrgRuntime, json: boolean): Promise<number> {
  const result = await applyWorkflow(rt);
  for (const f of result.findings) process.stderr.write(`emblem: lint ${f.severity} ${f.code}: ${f.message}\n`);
  if ('refused' in result) {
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stderr.write('emblem: apply refused: fix the lint errors above (nothing was changed)\n');
    return ExitCode.NOT_VALID;
  }
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else for (const o of result.assets) process.stdout.write(`${o.asset}: ${o.ok ? `published and verified (${o.level ?? 'no server to verify on'})` : `FAILED: ${o.error}`}\n`);
  return result.ok ? ExitCode.OK : ExitCode.NOT_VALID;
}

/** The workflow of `org status` (CLI and API): per asset, from the state and (unless offline) the servers now. */
export async function statusWorkflow(rt: OrgRuntime, offline: boolean) {
  const state = await loadState(rt.dir);
  const s = settings(rt.config);
  const ss = scheduleSettings(rt);
  const sched = schedule(scheduledAssets(rt, state), ss, rt.now);
  const servers = rt.channels.flatMap((c) => c.authoritativeServers());
  const eras: Array<'jws' | 'cwt'> = s.era === 'both' ? ['jws', 'cwt'] : [s.era];
  const rows = [];
  const withdrawnList = Object.entries(state.assets).filter(([a, st]) => st.withdrawn && !rt.config.assets.includes(a)).map(([a]) => a);
  for (const asset of [...rt.config.assets, ...withdrawnList]) {
    const a = state.assets[asset];
    let level: string | null = null;
    let seen: string | null = null;
    if (!offline && a?.current && !a.withdrawn && probeName(asset) && servers.length) {
      try {
        const v = await verifyAsset({ probe: probeName(asset)!, want: a.current, eras, servers, now: new Date(rt.now * 1000), commitments: await rt.commitments(), ihleType: s.ihleType, ...(rt.config.verify?.expectLevel ? { expectLevel: rt.config.verify.expectLevel } : {}) });
        level = v.ok ? v.level : null;
        seen = v.ok ? null : v.servers.map((x) => `${x.server}: ${x.detail}`).join('; ');
      } catch (err) {
        seen = reportError(err).message;
      }
    } else level = a?.current?.level ?? null;
    const warn = sched.warnings.find((w) => w.asset === asset);
    const status = a?.withdrawn
      ? 'withdrawn'
      : warn || seen || (a?.failures ?? 0) > 0
        ? 'failing'
        : a?.current && a.current.validUntil > rt.now
          ? 'published'
          : 'pending';
    const sa = scheduledAssets(rt, state).find((x) => x.asset === asset);
    rows.push({
      asset,
      status,
      level,
      validUntil: iso(a?.current?.validUntil),
      nextRenewal: a?.withdrawn ? null : iso(sa ? (a?.current && !signedByOtherKey(sa, ss) ? renewalTime(sa, ss) : Math.max(rt.now, dueAt(sa, ss) ?? rt.now)) : null),
      channels: a?.channels ?? {},
      lastError: seen ?? a?.lastError ?? null,
      // cacheHorizon: until when resolvers may still answer with the withdrawn records (withdrawal time + TTL).
      ...(a?.withdrawn ? { withdrawnAt: iso(a.withdrawnAt ?? null), cacheHorizon: iso(a.cacheHorizon ?? null) } : {}),
      ...(warn ? { warning: warn.message } : {}),
    });
  }
  return { assets: rows, warnings: sched.warnings };
}

/** `org status`: per asset, from the state and (unless offline) the authoritative servers now. */
export async function statusCommand(rt: OrgRuntime, json: boolean, offline: boolean): Promise<number> {
  const result = await statusWorkflow(rt, offline);
  const { assets: rows } = result;
  const sched = { warnings: result.warnings };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    for (const r of rows) {
      if (r.status === 'withdrawn') {
        const horizon = 'cacheHorizon' in r ? r.cacheHorizon : null;
        process.stdout.write(`${r.asset}: withdrawn at ${('withdrawnAt' in r ? r.withdrawnAt : null) ?? '-'}; resolver caches may answer with the old records until ${horizon ?? '-'} (cache horizon); not renewed (emblem org enable to publish again)\n`);
      } else process.stdout.write(`${r.asset}: ${r.status}${r.level ? ` (${r.level})` : ''}; valid until ${r.validUntil ?? '-'}; next renewal ${r.nextRenewal ?? '-'}\n`);
      for (const [ch, st] of Object.entries(r.channels)) process.stdout.write(`  ${ch}: ${st}\n`);
      if (r.lastError) process.stdout.write(`  last error: ${r.lastError}\n`);
    }
    for (const w of sched.warnings) process.stderr.write(`emblem: WARNING ${w.code}: ${w.message}\n`);
  }
  return sched.warnings.length ? ExitCode.NOT_VALID : ExitCode.OK;
}

export async function withdrawWorkflow(rt: OrgRuntime, assets: string[] | null) {
  const state = await loadState(rt.dir);
  const list = assets ?? rt.config.assets;
  const known = new Set([...rt.config.assets, ...Object.keys(state.assets)]);
  const unknown = list.filter((a) => !known.has(a));
  if (unknown.length) throw new EmblemError('USAGE', `not an asset of this folder: ${unknown.join(', ')}`);
  const started = Date.now();
  const r = await withdraw(rt, state, list);
  const gone = r.remaining.every((x) => x.records === 0);
  return { ...r, ok: gone, elapsedMs: Date.now() - started, note: 'CT entries of the binding certificate are permanent; anyone who already fetched the tokens keeps them until they expire' };
}

/** `org withdraw`: remove the records everywhere now, verify they are gone, stop renewing. */
export async function withdrawCommand(rt: OrgRuntime, assets: string[] | null, json: boolean): Promise<number> {
  const out = await withdrawWorkflow(rt, assets);
  const r = out;
  const list = assets ?? rt.config.assets;
  const gone = out.ok;
  if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else {
    process.stdout.write(`Withdrew ${list.length} asset(s): removed ${r.removed} record(s) from ${rt.channels.length} channel(s).\n`);
    for (const s of r.remaining) process.stdout.write(`  ${s.server}: ${s.records === 0 ? 'no emblem records left' : `${s.records} emblem record(s) STILL ANSWERED`}\n`);
    process.stdout.write(`Resolver caches may answer with the old records until ${r.cacheHorizon} (cache horizon: TTL ${r.cacheHorizonSeconds}s).\n${out.note}.\nRenewal is stopped for these assets (emblem org enable to publish them again).\n`);
  }
  return gone ? ExitCode.OK : ExitCode.NOT_VALID;
}

/**
 * `org enable`: undoes `org withdraw` for these assets. Only the state changes here; the next `org apply` or
 * `org run` wake-up signs fresh sets and publishes them (resolvers that cached the absence may miss them for up to
 * the zone's negative-caching time, the SOA minimum).
 */
export async function enableCommand(rt: OrgRuntime, assets: string[] | null, json: boolean): Promise<number> {
  const state = await loadState(rt.dir);
  const list = assets ?? rt.config.assets;
  const unconfigured = list.filter((a) => !rt.config.assets.includes(a));
  if (unconfigured.length) throw new EmblemError('USAGE', `not an asset in emblem-org.yaml (add it under assets first): ${unconfigured.join(', ')}`);
  const enabled: string[] = [];
  for (const asset of list) {
    const a = assetState(state, asset);
    if (!a.withdrawn) continue;
    a.withdrawn = false;
    a.withdrawnAt = null;
    a.cacheHorizon = null;
    a.current = null;
    a.pending = null;
    a.failures = 0;
    a.lastAttempt = null;
    a.lastError = null;
    enabled.push(asset);
  }
  if (enabled.length) await saveAssets(rt.dir, state, enabled);
  const unchanged = list.filter((a) => !enabled.includes(a));
  if (json) process.stdout.write(`${JSON.stringify({ ok: true, enabled, notWithdrawn: unchanged })}\n`);
  else {
    process.stdout.write(`Enabled ${enabled.length} asset(s)${enabled.length ? `: ${enabled.join(', ')}` : ''}.${unchanged.length ? ` Not withdrawn (unchanged): ${unchanged.join(', ')}.` : ''}\n`);
    if (enabled.length) process.stdout.write('The next emblem org apply (or the running emblem org run) signs and publishes them again.\n');
  }
  return ExitCode.OK;
}

/**
 * Resolves when the folder's config or state changes (org rotate, org enable, an edited config) so the daemon acts
 * on it now rather than at its next timer. Best effort: without file watching the timer still wakes it.
 */
async function watchFolder(dir: string): Promise<{ changed: Promise<void>; close(): void }> {
  const { watch } = await import('node:fs');
  let close = () => {};
  const changed = new Promise<void>((resolve) => {
    try {
      const w = watch(dir, { persistent: false }, (_event, file) => {
        if (file === 'emblem-org.yaml' || file === 'state.json') resolve();
      });
      w.on('error', () => {});
      close = () => w.close();
    } catch {
      // no inotify (or the like): the timer is enough
    }
  });
  return { changed, close: () => close() };
}

/**
 * `org run`: the scheduler decides when; each wake-up runs the executor on the due assets. Long-running mode
 * sleeps until the next due time (at most a minute, to pick up config changes) and finishes the step in progress
 * on SIGTERM/SIGINT. `--once` does what is due and exits (1 when an asset failed or will lapse).
 */
export async function runCommand(o: { dir: string; once: boolean; at: number | null; passphrase?: string; pkcs11PinFile?: string }): Promise<number> {
  const { openRuntime } = await import('./runtime.js');
  let stopping = false;
  let wake: (() => void) | null = null;
  const onSignal = () => {
    stopping = true;
    wake?.();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const log = (e: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);
  let exit: number = ExitCode.OK;
  try {
    while (!stopping) {
      const now = o.at ?? Math.floor(Date.now() / 1000);
      let next: number | null = null;
      let rt: Awaited<ReturnType<typeof openRuntime>> | null = null;
      try {
        rt = await openRuntime(o.dir, { now, log, ...(o.passphrase ? { passphrase: o.passphrase } : {}), ...(o.pkcs11PinFile ? { pkcs11PinFile: o.pkcs11PinFile } : {}) });
        rt.stopping = () => stopping;
        const state = await loadState(o.dir);
        const s = scheduleSettings(rt);
        const before = schedule(scheduledAssets(rt, state), s, now);
        for (const w of before.warnings) log({ level: 'warning', event: 'lapse-warning', ...w });
        let outcomesOk = true;
        if (before.due.length) {
          const findings = await lint(o.dir, rt.config, state, now);
          if (findings.some((f) => f.severity === 'error')) {
            log({ level: 'error', event: 'lint-refused', findings });
            outcomesOk = false;
          } else {
            // Withdrawn assets ride along: records published by a step that raced with `org withdraw` are removed.
            const withdrawn = Object.entries(state.assets).filter(([, a]) => a.withdrawn).map(([asset]) => asset);
            const outcomes = await applyAll(rt, state, new Set([...before.due, ...withdrawn]));
            outcomesOk = outcomes.every((x) => x.ok);
            log({ event: 'applied', due: before.due.length, ok: outcomes.filter((x) => x.ok).length, failed: outcomes.filter((x) => !x.ok).map((x) => ({ asset: x.asset, error: x.error })) });
          }
        }
        const after = schedule(scheduledAssets(rt, await loadState(o.dir)), s, now);
        for (const w of after.warnings) log({ level: 'warning', event: 'lapse-warning', ...w });
        next = after.nextWake;
        if (o.once) {
          exit = outcomesOk && after.warnings.length === 0 ? ExitCode.OK : ExitCode.NOT_VALID;
          break;
        }
      } catch (err) {
        const e = reportError(err);
        log({ level: 'error', event: 'run-failed', code: e.code, message: e.message });
        if (o.once) {
          exit = ExitCode.USAGE;
          break;
        }
      } finally {
        // Token sessions (PKCS#11 root key) are opened per wake-up and closed before sleeping.
        rt?.close();
      }
      if (stopping) break;
      const sleepMs = Math.max(1000, Math.min(60_000, next === null ? 60_000 : (next - Math.floor(Date.now() / 1000)) * 1000));
      // Watched only while asleep: the daemon's own writes (all done by now) do not wake it.
      const folder = await watchFolder(o.dir);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, sleepMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
        void folder.changed.then(() => wake?.());
      });
      folder.close();
      wake = null;
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  if (stopping) log({ event: 'stopped', reason: 'signal' });
  return exit;
}

/** The workflow of `org plan` (CLI and API): lint findings and what apply would do. */
export async function planWorkflow(rt: OrgRuntime) {
  const { currentPlan } = await import('./apply.js');
  const state = await loadState(rt.dir);
  const findings = await lint(rt.dir, rt.config, state, rt.now);
  const actions = await currentPlan(rt, state);
  return { actions, findings };
}

/** `org plan --json`: records with hex RDATA. */
export function planJson(plan: Awaited<ReturnType<typeof planWorkflow>>) {
  const hex = (rs: Array<{ name: string; type: number; ttl: number; rdata: Uint8Array }>) => rs.map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, rdata: Buffer.from(r.rdata).toString('hex') }));
  return { actions: plan.actions.map((a) => (a.kind === 'publish' ? { ...a, add: hex(a.add), remove: hex(a.remove) } : a.kind === 'remove' ? { ...a, remove: hex(a.remove) } : a)), findings: plan.findings };
}

/** The workflow of `org lint` (CLI and API): needs no keys. */
export async function lintWorkflow(dir: string, now: number) {
  const { loadConfig } = await import('./config.js');
  const config = await loadConfig(dir);
  return { findings: await lint(dir, config, await loadState(dir), now) };
}
