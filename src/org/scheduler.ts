/**
 * The pure scheduler of `emblem org run`: from the state and `now`, when each asset is next due and which
 * warnings to raise. No clock, no I/O: test/org/scheduler.test.ts drives it over 400 simulated days.
 */
export interface ScheduleSettings {
  lifetime: number;
  renewBefore: number;
  /** JWS kid of the configured emblem key, when known: sets signed by any other key are due now. */
  emblemKid?: string;
  /** JWS kid of the configured root key, when known: sets endorsed by any other root key are due now. */
  rootKid?: string;
  /** Digest of the configured received endorsements, when known: sets published with others are due now. */
  endorsements?: string;
}

export interface ScheduledAsset {
  asset: string;
  withdrawn: boolean;
  /** End of validity of the verified set (null: none yet). */
  validUntil: number | null;
  pending: boolean;
  failures: number;
  lastAttempt: number | null;
  /** JWS kid of the key that signed the published set (null/absent: unknown). */
  signedBy?: string | null;
  /** JWS kid of the root key that endorsed the emblem key of the published set (null/absent: unknown). */
  endorsedBy?: string | null;
  /** Digest of the received endorsements published with the set (null/absent: unknown). */
  endorsements?: string | null;
}

export interface ScheduleWarning {
  asset: string;
  code: 'EMBLEM_WILL_LAPSE' | 'EMBLEM_LAPSED';
  message: string;
}

/** Deterministic jitter in [0, 1): spreads renewals of many assets and many organisations (FNV-1a of the asset). */
export function jitterFraction(asset: string, salt: number): number {
  let h = 0x811c9dc5 ^ salt;
  for (let i = 0; i < asset.length; i++) {
    h ^= asset.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (h >>> 0) / 0x1_0000_0000;
}

/** Renewal time: when the remaining lifetime drops under the margin, moved earlier by up to 10% of the margin. */
export function renewalTime(a: ScheduledAsset, s: ScheduleSettings): number | null {
  if (a.withdrawn || a.validUntil === null) return null;
  return Math.floor(a.validUntil - s.renewBefore - jitterFraction(a.asset, a.validUntil) * s.renewBefore * 0.1);
}

/** Backoff after `failures` failed attempts: 2^n seconds from 10 s, capped at an hour and at a tenth of the margin. */
export function backoffSeconds(failures: number, s: ScheduleSettings): number {
  if (failures <= 0) return 0;
  const cap = Math.max(1, Math.min(3600, Math.floor(s.renewBefore / 10)));
  return Math.min(cap, 10 * 2 ** Math.min(failures - 1, 20));
}

/**
 * Whether the published set was signed by a key other than the configured emblem key, endorsed by another root
 * key, or published with other received endorsements than the configured ones (an import): after `org rotate`, or when the folder's keys or state were restored from a backup. Such a set is re-signed now, not
 * at its renewal time (the old key is to be retired; a restored key must match what is published).
 */
export function signedByOtherKey(a: ScheduledAsset, s: ScheduleSettings): boolean {
  const other = (want: string | undefined, have: string | null | undefined) => want !== undefined && typeof have === 'string' && have !== want;
  return other(s.emblemKid, a.signedBy) || other(s.rootKid, a.endorsedBy) || other(s.endorsements, a.endorsements);
}

/** When this asset next needs work (null: never, e.g. withdrawn). */
export function dueAt(a: ScheduledAsset, s: ScheduleSettings): number | null {
  if (a.withdrawn) return null;
  const wanted = a.validUntil === null || a.pending || signedByOtherKey(a, s) ? Number.NEGATIVE_INFINITY : renewalTime(a, s)!;
  const retry = a.failures > 0 && a.lastAttempt !== null ? a.lastAttempt + backoffSeconds(a.failures, s) : Number.NEGATIVE_INFINITY;
  return Math.max(wanted, retry);
}

export function isDue(a: ScheduledAsset, s: ScheduleSettings, now: number): boolean {
  const at = dueAt(a, s);
  return at !== null && at <= now;
}

export interface Schedule {
  /** Assets to work on now. */
  due: string[];
  /** Next time anything is due (null: nothing scheduled). */
  nextWake: number | null;
  warnings: ScheduleWarning[];
}

/**
 * What to do at `now`. Warnings: EMBLEM_LAPSED once the published set has expired; EMBLEM_WILL_LAPSE when renewal
 * has failed and less than half the margin remains, or the next retry comes after the end of validity.
 */
export function schedule(assets: ScheduledAsset[], s: ScheduleSettings, now: number): Schedule {
  const due: string[] = [];
  let nextWake: number | null = null;
  const warnings: ScheduleWarning[] = [];
  for (const a of assets) {
    const at = dueAt(a, s);
    if (at === null) continue;
    if (at <= now) due.push(a.asset);
    else nextWake = nextWake === null ? at : Math.min(nextWake, at);
    if (a.validUntil !== null) {
      if (a.validUntil <= now) warnings.push({ asset: a.asset, code: 'EMBLEM_LAPSED', message: `${a.asset}: the published emblem expired at ${new Date(a.validUntil * 1000).toISOString()}` });
      else if ((a.failures > 0 && a.validUntil - now < s.renewBefore / 2) || (at > now && at >= a.validUntil)) {
        warnings.push({ asset: a.asset, code: 'EMBLEM_WILL_LAPSE', message: `${a.asset}: renewal has failed ${a.failures} time(s); the emblem lapses at ${new Date(a.validUntil * 1000).toISOString()} unless the next attempt succeeds` });
      }
    }
  }
  return { due, nextWake: due.length > 0 ? now : nextWake, warnings };
}
