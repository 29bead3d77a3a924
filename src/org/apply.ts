import { EmblemError, reportError } from '../core/errors.js';
import type { SigningKey } from '../core/tokens/sign.js';
import type { CommitmentChecker } from '../core/verify/commitment.js';
import type { PublishingChannel } from './channels/channel.js';
import type { OrgConfig } from './config.js';
import { settings as configSettings } from './config.js';
import { ownerName, probeName } from './assets.js';
import { plan, isEmblemRecord, type Action, type Observed } from './plan.js';
import { assertBindingNamesRoot, bindingLog, receivedEndorsements, signSets } from './sign.js';
import { assetState, fromJson, saveAssets, saveState, type OrgState } from './state.js';
import { remainingOnServers, verifyAsset } from './verify.js';
import { describeFailure, publishAllOrNone } from './publish.js';
import { OrgLimits } from './limits.js';

export interface OrgRuntime {
  dir: string;
  config: OrgConfig;
  channels: PublishingChannel[];
  /** Loaded on first use (decrypting keys costs time and may need a passphrase). */
  keys: () => Promise<{ root: SigningKey; emblem: SigningKey }>;
  commitments: () => Promise<CommitmentChecker>;
  /** Injected time, seconds. */
  now: number;
  log: (event: Record<string, unknown>) => void;
  /** JWS kid of the configured emblem key (from its public file), when known. */
  emblemKid?: string;
  /** JWS kid of the configured root key, when known. */
  rootKid?: string;
  /** Digest of the configured received endorsements (sign.ts endorsementsDigest), when readable. */
  endorsements?: string;
  /** Stop after the step in progress (SIGTERM). */
  stopping?: () => boolean;
}

export interface AssetOutcome {
  asset: string;
  ok: boolean;
  level: string | null;
  error: string | null;
}

function planInput(rt: OrgRuntime) {
  const s = configSettings(rt.config);
  return { assets: rt.config.assets, settings: { lifetime: s.lifetime, renewBefore: s.renewBefore, ihleType: s.ihleType }, channels: rt.channels.map((c) => c.id), ...(rt.emblemKid ? { emblemKid: rt.emblemKid } : {}), ...(rt.rootKid ? { rootKid: rt.rootKid } : {}), ...(rt.endorsements ? { endorsements: rt.endorsements } : {}) };
}

function allOwners(rt: OrgRuntime, state: OrgState): string[] {
  const owners = new Set<string>();
  for (const a of [...rt.config.assets, ...Object.keys(state.assets)]) {
    const o = ownerName(a);
    if (o) owners.add(o);
  }
  return [...owners];
}

/** Reads every channel; a channel that cannot be read fails the run (nothing is changed blind). */
export async function observe(rt: OrgRuntime, state: OrgState): Promise<Observed> {
  const owners = allOwners(rt, state);
  const observed: Observed = new Map();
  for (const ch of rt.channels) {
    try {
      observed.set(ch.id, await ch.read(owners));
    } catch (err) {
      const e = reportError(err);
      throw new EmblemError(e.code, `channel ${ch.id}: ${e.message}`);
    }
  }
  return observed;
}

/** The plan at this moment, with the channels read (for `org plan`). */
export async function currentPlan(rt: OrgRuntime, state: OrgState): Promise<Action[]> {
  return plan(planInput(rt), state, await observe(rt, state), rt.now);
}

/**
 * The executor: plan, perform, record, re-plan, until nothing is left or only failed steps remain. Each step is
 * recorded in state.json atomically before the next, so a crash resumes where it stopped; records are added
 * before the records they replace are removed, and removed only once the replacement verified.
 */
export async function applyAll(rt: OrgRuntime, state: OrgState, only?: Set<string>): Promise<AssetOutcome[]> {
  const s = configSettings(rt.config);
  const eras: Array<'jws' | 'cwt'> = s.era === 'both' ? ['jws', 'cwt'] : [s.era];
  const attempted = new Set<string>();
  const failed = new Map<string, string>();
  const levels = new Map<string, string | null>();
  const byId = new Map(rt.channels.map((c) => [c.id, c]));
  const fail = (asset: string, message: string) => {
    failed.set(asset, message);
    const a = assetState(state, asset);
    a.lastError = message;
    a.failures += 1;
    a.lastAttempt = rt.now;
  };
  for (let round = 0; round < 8; round++) {
    if (rt.stopping?.()) break;
    const observed = await observe(rt, state);
    const actions = plan(planInput(rt), state, observed, rt.now).filter((a) => {
      const assets = a.kind === 'sign' ? a.assets : [a.asset];
      if (only && !assets.some((x) => only.has(x))) return false;
      const key = `${a.kind}:${a.kind === 'sign' ? a.assets.join(',') : `${a.asset}:${'channel' in a ? a.channel : ''}`}`;
      if (attempted.has(key) || assets.every((x) => failed.has(x))) return false;
      attempted.add(key);
      return true;
    });
    if (actions.length === 0) break;
    for (const action of actions) {
      if (rt.stopping?.() && action.kind !== 'sign') break;
      if (action.kind === 'sign') {
        const keys = await rt.keys();
        await assertBindingNamesRoot(rt.dir, rt.config, keys.root, s.host);
        const log = await bindingLog(rt.dir, rt.config);
        const received = await receivedEndorsements(rt.dir, rt.config);
        const id = `g${state.nextGeneration}`;
        state.nextGeneration += 1;
        const targets = only ? action.assets.filter((x) => only.has(x)) : action.assets;
        const sets = await signSets({ config: rt.config, era: s.era, lifetime: s.lifetime, ttl: s.ttl, ihleType: s.ihleType, root: keys.root, emblem: keys.emblem, log, received }, targets, rt.now, id);
        for (const [asset, set] of sets) assetState(state, asset).pending = set;
        await saveState(rt.dir, state);
        rt.log({ event: 'signed', assets: targets.length, identifier: id, validUntil: new Date((rt.now + s.lifetime) * 1000).toISOString() });
      }
    }
    // Channel changes, grouped per channel (one batched UPDATE stream per primary), published all or none: when
    // one channel fails, the channels already changed in this step are rolled back (src/org/publish.ts).
    const perChannel = new Map<string, Array<Extract<Action, { kind: 'publish' | 'remove' }>>>();
    for (const a of actions) if (a.kind === 'publish' || a.kind === 'remove') perChannel.set(a.channel, [...(perChannel.get(a.channel) ?? []), a]);
    if (perChannel.size && !rt.stopping?.()) {
      const changes = [...perChannel].map(([chId, list]) => ({
        channel: byId.get(chId)!,
        add: list.flatMap((a) => (a.kind === 'publish' ? a.add : [])),
        remove: list.flatMap((a) => (a.kind === 'publish' || a.kind === 'remove' ? a.remove : [])),
      }));
      const failure = await publishAllOrNone(changes, observed);
      if (!failure) {
        for (const [chId, list] of perChannel) for (const a of list) assetState(state, a.asset).channels[chId] = a.kind === 'publish' ? 'published' : 'removed';
        for (const c of changes) rt.log({ event: 'channel', channel: c.channel.id, added: c.add.length, removed: c.remove.length });
      } else {
        const message = describeFailure(failure);
        for (const list of perChannel.values()) for (const a of list) fail(a.asset, message);
        for (const a of perChannel.get(failure.channel) ?? []) assetState(state, a.asset).channels[failure.channel] = 'failing';
        for (const r of failure.rollbackFailed) for (const a of perChannel.get(r.channel) ?? []) assetState(state, a.asset).channels[r.channel] = 'failing';
        rt.log({ event: 'channel-failed', channel: failure.channel, code: failure.error.code, message: failure.error.message, rolledBack: failure.rolledBack, rollbackFailed: failure.rollbackFailed });
      }
      await saveState(rt.dir, state);
    }
    const servers = rt.channels.flatMap((c) => c.authoritativeServers());
    const verifies = actions.filter((a): a is Extract<Action, { kind: 'verify' }> => a.kind === 'verify');
    const commitments = verifies.length ? await rt.commitments() : null;
    let nextVerify = 0;
    // Verifications run in parallel (bounded): each asks the authoritative servers and checks CT commitments.
    await Promise.all(Array.from({ length: Math.min(OrgLimits.verifyConcurrency, verifies.length) }, async () => {
      while (nextVerify < verifies.length && !rt.stopping?.()) {
        const action = verifies[nextVerify++]!;
        const a = assetState(state, action.asset);
        if (!a.pending) continue;
        const result = await verifyAsset({
          probe: probeName(action.asset)!,
          want: a.pending,
          eras,
          servers,
          now: new Date(rt.now * 1000),
          commitments: commitments!,
          ihleType: s.ihleType,
          ...(rt.config.verify?.expectLevel ? { expectLevel: rt.config.verify.expectLevel } : {}),
        });
        if (servers.length === 0 || result.ok) {
          a.current = { ...a.pending, level: result.level };
          a.pending = null;
          a.lastError = servers.length === 0 ? 'no authoritative server to verify on (write-only channels)' : null;
          a.failures = 0;
          a.lastAttempt = rt.now;
          a.lastVerified = servers.length === 0 ? null : rt.now;
          levels.set(action.asset, result.level);
          rt.log({ event: 'verified', asset: action.asset, level: result.level, servers: result.servers });
        } else {
          fail(action.asset, `verification failed: ${result.servers.filter((x) => !x.ok).map((x) => `${x.server}: ${x.detail}`).join('; ')}`);
          rt.log({ event: 'verify-failed', asset: action.asset, servers: result.servers });
        }
      }
    }));
    if (verifies.length) await saveState(rt.dir, state);
  }
  const outcomes: AssetOutcome[] = [];
  for (const asset of rt.config.assets) {
    if (only && !only.has(asset)) continue;
    const a = state.assets[asset];
    if (ownerName(asset) === null) {
      outcomes.push({ asset, ok: false, level: null, error: 'address assets have no name to publish at; publish them through a name asset' });
      continue;
    }
    if (a?.withdrawn) continue;
    const ok = !failed.has(asset) && !!a?.current && !a.pending && a.current.validUntil > rt.now;
    outcomes.push({ asset, ok, level: a?.current?.level ?? levels.get(asset) ?? null, error: failed.get(asset) ?? (ok ? null : a?.lastError ?? 'not published') });
  }
  return outcomes;
}

export interface WithdrawResult {
  assets: string[];
  removed: number;
  remaining: Array<{ server: string; records: number }>;
  /** Longest TTL among the removed records: resolver caches may answer with them until then. */
  cacheHorizonSeconds: number;
  cacheHorizon: string;
}

/** Marks assets withdrawn, removes their records from every channel, and checks the authoritative servers. */
export async function withdraw(rt: OrgRuntime, state: OrgState, assets: string[]): Promise<WithdrawResult> {
  const s = configSettings(rt.config);
  // Resolvers may hold any record published for these assets, so the horizon counts the sets in the state too.
  const ttlOf = new Map<string, number>();
  const byOwner = new Map<string, string[]>();
  for (const asset of assets) {
    const a = assetState(state, asset);
    const known = [...(a.current?.records ?? []), ...(a.pending?.records ?? [])].map(fromJson);
    ttlOf.set(asset, known.reduce((m, r) => Math.max(m, r.ttl), 0));
    const owner = ownerName(asset);
    if (owner !== null) byOwner.set(owner, [...(byOwner.get(owner) ?? []), asset]);
    // Withdrawing again (e.g. after WITHDRAW_INCOMPLETE) keeps the first withdrawal time and a later horizon.
    if (!a.withdrawn) a.withdrawnAt = rt.now;
    a.withdrawn = true;
    a.pending = null;
  }
  // Only these assets' entries are written: a concurrent `org run` keeps its steps for the others.
  await saveAssets(rt.dir, state, assets);
  const observed = await observe(rt, state);
  const owners = new Set(assets.map(ownerName).filter((o): o is string => o !== null));
  let removed = 0;
  let ttl = 0;
  const failures: string[] = [];
  // Every channel is tried, even when one fails: in an emergency, remove what can be removed now.
  await Promise.all(rt.channels.map(async (ch) => {
    const remove = (observed.get(ch.id) ?? []).filter((r) => owners.has(r.name) && isEmblemRecord(r, s.ihleType));
    if (remove.length === 0) return;
    for (const r of remove) {
      ttl = Math.max(ttl, r.ttl);
      for (const asset of byOwner.get(r.name) ?? []) ttlOf.set(asset, Math.max(ttlOf.get(asset) ?? 0, r.ttl));
    }
    try {
      await ch.apply({ add: [], remove });
      removed += remove.length;
      for (const asset of assets) assetState(state, asset).channels[ch.id] = 'removed';
    } catch (err) {
      const e = reportError(err);
      failures.push(`${ch.id}: ${e.code}: ${e.message}`);
      for (const asset of assets) assetState(state, asset).channels[ch.id] = 'failing';
    }
  }));
  // Cache horizon (withdrawal time + the longest TTL): a resolver that fetched a record just before the removal may
  // answer with it until then. Negative caching (the SOA minimum) does not extend it: it keeps the *absence*, which
  // only matters for a later `org enable`.
  for (const asset of assets) {
    const a = assetState(state, asset);
    ttl = Math.max(ttl, ttlOf.get(asset) ?? 0);
    const exposed = ttlOf.get(asset) ?? 0; // 0: nothing was (known to be) published since the last withdrawal
    a.cacheHorizon = Math.max(a.cacheHorizon ?? rt.now, exposed > 0 ? rt.now + exposed : 0);
  }
  if (failures.length) {
    await saveAssets(rt.dir, state, assets);
    throw new EmblemError('WITHDRAW_INCOMPLETE', `withdrawal failed on ${failures.join('; ')} (run withdraw again; the other channels are done)`);
  }
  for (const asset of assets) assetState(state, asset).current = null;
  await saveAssets(rt.dir, state, assets);
  const servers = rt.channels.flatMap((c) => c.authoritativeServers());
  const left = await remainingOnServers(servers, [...owners], [16, s.ihleType]);
  const remaining = left.map((l) => ({ server: l.server, records: l.records.filter((r) => isEmblemRecord(r, s.ihleType)).length }));
  const horizon = assets.reduce((m, asset) => Math.max(m, assetState(state, asset).cacheHorizon ?? 0), rt.now + ttl);
  return { assets, removed, remaining, cacheHorizonSeconds: ttl, cacheHorizon: new Date(horizon * 1000).toISOString() };
}
