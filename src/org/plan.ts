import type { DnsRecord } from './channels/channel.js';
import { recordKey } from './channels/channel.js';
import { ownerName } from './assets.js';
import { fromJson, NO_ENDORSEMENTS, type OrgState, type SetState } from './state.js';
import { renewalTime, signedByOtherKey, type ScheduleSettings } from './scheduler.js';
import { signingKid } from './set-kid.js';

/** One step of the lifecycle; the executor performs it and records it before the next. */
export type Action =
  | { kind: 'sign'; assets: string[]; reason: string }
  | { kind: 'publish'; channel: string; asset: string; add: DnsRecord[]; remove: DnsRecord[] }
  | { kind: 'verify'; asset: string }
  | { kind: 'remove'; channel: string; asset: string; remove: DnsRecord[]; reason: 'retire' | 'withdraw' | 'unlisted' };

export interface PlanInput {
  assets: string[];
  settings: ScheduleSettings & { ihleType: number };
  channels: string[];
  /** JWS kid of the configured emblem key; sets signed by another key are re-signed (rotation). */
  emblemKid?: string;
  /** JWS kid of the configured root key; sets endorsed by another root key are re-signed (root rotation). */
  rootKid?: string;
  /** Digest of the configured received endorsements; sets published with others are re-signed (an import). */
  endorsements?: string;
}

/** What each channel holds now (TXT and IHLE at the names asked). */
export type Observed = Map<string, DnsRecord[]>;

/** ADEM records: TXT whose first character-string starts with "adem-", and IHLE. Others (SPF...) are never touched. */
export function isEmblemRecord(r: DnsRecord, ihleType: number): boolean {
  if (r.type === ihleType) return true;
  if (r.type !== 16 || r.rdata.length < 6) return false;
  const text = Buffer.from(r.rdata.subarray(1, 1 + Math.min(r.rdata[0]!, 5))).toString('latin1');
  return text === 'adem-';
}

function at(observed: Observed, channel: string, owner: string, ihleType: number): DnsRecord[] {
  return (observed.get(channel) ?? []).filter((r) => r.name === owner && isEmblemRecord(r, ihleType));
}

function missing(want: SetState, have: DnsRecord[]): DnsRecord[] {
  const keys = new Set(have.map(recordKey));
  return want.records.map(fromJson).filter((r) => !keys.has(recordKey(r)));
}

function not(want: SetState | null, have: DnsRecord[]): DnsRecord[] {
  const keys = new Set((want?.records ?? []).map((r) => recordKey(fromJson(r))));
  return have.filter((r) => !keys.has(recordKey(r)));
}

/**
 * The pure planner: from the wanted assets, the state (what was signed and verified) and what the channels hold,
 * the steps to take at `now`. Order within an asset: sign -> publish (add; for IHLE, the old set goes in the same
 * atomic change, since IHLE has no identifiers and two emblems in one set do not verify) -> verify -> retire the
 * old records. Old JWS records stay until their replacement verified. Assets withdrawn or no longer configured
 * have all their emblem records removed. Calling it again after each step gives the next step.
 */
export function plan(input: PlanInput, state: OrgState, observed: Observed, now: number): Action[] {
  const actions: Action[] = [];
  const toSign: string[] = [];
  const { ihleType } = input.settings;
  const listed = new Set(input.assets);
  for (const asset of [...input.assets, ...Object.keys(state.assets).filter((a) => !listed.has(a))]) {
    const owner = ownerName(asset);
    if (owner === null) continue;
    const s = state.assets[asset];
    if (!listed.has(asset) || s?.withdrawn) {
      for (const ch of input.channels) {
        const have = at(observed, ch, owner, ihleType);
        if (have.length) actions.push({ kind: 'remove', channel: ch, asset, remove: have, reason: listed.has(asset) ? 'withdraw' : 'unlisted' });
      }
      continue;
    }
    const current = s?.current ?? null;
    const pending = s?.pending ?? null;
    const renewAt = current ? renewalTime({ asset, withdrawn: false, validUntil: current.validUntil, pending: false, failures: 0, lastAttempt: null }, input.settings)! : null;
    // The same rule as the scheduler's (signedByOtherKey), so `org run` never wakes for work the plan does not see.
    const keyed = { ...input.settings, ...(input.emblemKid !== undefined ? { emblemKid: input.emblemKid } : {}), ...(input.rootKid !== undefined ? { rootKid: input.rootKid } : {}), ...(input.endorsements !== undefined ? { endorsements: input.endorsements } : {}) };
    const otherKey = (set: SetState) => signedByOtherKey({ asset, withdrawn: false, validUntil: set.validUntil, pending: false, failures: 0, lastAttempt: null, signedBy: signingKid(set), endorsedBy: set.rootKid ?? null, endorsements: set.endorsements ?? NO_ENDORSEMENTS }, keyed);
    const pendingStale = pending !== null && (pending.validUntil - now < input.settings.renewBefore || otherKey(pending));
    const rotated = current !== null && otherKey(current);
    if ((pending === null && (current === null || now >= renewAt! || rotated)) || pendingStale) {
      toSign.push(asset);
      continue;
    }
    if (pending) {
      let complete = true;
      for (const ch of input.channels) {
        const have = at(observed, ch, owner, ihleType);
        const add = missing(pending, have);
        if (add.length === 0) continue;
        complete = false;
        const pendingHasIhle = pending.records.some((r) => r.type === ihleType);
        const remove = pendingHasIhle ? not(pending, have).filter((r) => r.type === ihleType) : [];
        actions.push({ kind: 'publish', channel: ch, asset, add, remove });
      }
      if (complete) actions.push({ kind: 'verify', asset });
      continue;
    }
    if (current) {
      for (const ch of input.channels) {
        const have = at(observed, ch, owner, ihleType);
        const add = missing(current, have);
        if (add.length) actions.push({ kind: 'publish', channel: ch, asset, add, remove: [] });
        const stale = not(current, have);
        if (stale.length) actions.push({ kind: 'remove', channel: ch, asset, remove: stale, reason: 'retire' });
      }
    }
  }
  if (toSign.length) actions.unshift({ kind: 'sign', assets: toSign, reason: 'no valid set, or the remaining lifetime is under the renewal margin' });
  return actions;
}

