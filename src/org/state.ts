import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import type { DnsRecord } from './channels/channel.js';
import { OrgLimits } from './limits.js';

/** A record as stored in state.json (RDATA in hex). */
export interface RecordJson {
  name: string;
  type: number;
  ttl: number;
  rdata: string;
}

/** One signed token set for one asset: what was signed, when, and the records that publish it. */
export interface SetState {
  identifier: string;
  signedAt: number;
  validFrom: number;
  validUntil: number;
  records: RecordJson[];
  /** JWS kid of the emblem key that signed it (a rotation re-signs every set signed by another key). */
  emblemKid?: string;
  /** JWS kid of the root key that endorsed the emblem key (a root rotation re-signs every set too). */
  rootKid?: string;
  /** Digest of the received endorsements published with the set (sign.ts endorsementsDigest). */
  endorsements?: string;
  /** Level seen on the authoritative servers when it verified. */
  level?: string | null;
}

export interface AssetState {
  /** Set and cleared only by `org withdraw` / `org enable`; the executor adopts it from disk before each write. */
  withdrawn: boolean;
  withdrawnAt?: number | null;
  /** Withdrawn: until when resolver caches may still answer with the removed records (withdrawal time + TTL). */
  cacheHorizon?: number | null;
  /** Published and verified. */
  current: SetState | null;
  /** Signed, being published; replaces `current` once it verifies. */
  pending: SetState | null;
  lastError: string | null;
  failures: number;
  lastAttempt: number | null;
  lastVerified: number | null;
  /** Per channel id: what the last step there did. */
  channels: Record<string, 'published' | 'removed' | 'failing'>;
}

export interface OrgState {
  version: 1;
  nextGeneration: number;
  assets: Record<string, AssetState>;
}

/** What `endorsementsDigest` gives for no received endorsements (also assumed for sets signed before the field). */
export const NO_ENDORSEMENTS = 'none';

export const STATE_FILE = 'state.json';

export function emptyState(): OrgState {
  return { version: 1, nextGeneration: 1, assets: {} };
}

export function assetState(state: OrgState, asset: string): AssetState {
  let a = state.assets[asset];
  if (!a) {
    a = { withdrawn: false, current: null, pending: null, lastError: null, failures: 0, lastAttempt: null, lastVerified: null, channels: {} };
    state.assets[asset] = a;
  }
  return a;
}

export async function loadState(dir: string): Promise<OrgState> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw err;
  }
  if (text.length > OrgLimits.maxStateBytes) throw new EmblemError('STATE_INVALID', `${STATE_FILE} is too large`);
  try {
    const s = JSON.parse(text) as OrgState;
    if (s.version !== 1 || typeof s.assets !== 'object') throw new Error('version');
    return s;
  } catch {
    throw new EmblemError('STATE_INVALID', `${join(dir, STATE_FILE)} is damaged; restore it from a backup or remove it (records will be re-read from the channels)`);
  }
}

async function writeState(dir: string, state: OrgState): Promise<void> {
  await writeFileAtomic(join(dir, STATE_FILE), `${JSON.stringify(state, null, 1)}\n`, 0o600);
}

const LOCK_FILE = 'state.lock';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Serialises read-merge-write of state.json between the processes of one folder (`org run`, `org withdraw`,
 * `org enable`, `org apply`). Held only for the few milliseconds of one write, never across network steps. The lock
 * file names its holder's pid (written in full before it appears, via link()); a lock whose holder is gone (kill -9)
 * is broken. Staleness is judged by the pid, not by file age: the tests run the clock years ahead.
 */
export async function withStateLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const path = join(dir, LOCK_FILE);
  const temp = join(dir, `.${LOCK_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(temp, `${process.pid}\n`, { mode: 0o600, flag: 'wx' });
  const started = Date.now();
  try {
    for (;;) {
      try {
        await link(temp, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && !processAlive(holder)) {
        await unlink(path).catch(() => {});
        continue;
      }
      if (Date.now() - started > OrgLimits.stateLockWaitMs) {
        throw new EmblemError('STATE_LOCKED', `${path} is held by process ${Number.isInteger(holder) ? holder : '?'}; if no emblem org command is running, remove the file`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await unlink(temp).catch(() => {});
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => {});
  }
}

async function loadForMerge(dir: string): Promise<OrgState | null> {
  try {
    return await loadState(dir);
  } catch {
    return null; // damaged: the caller's copy is written over it
  }
}

/**
 * The withdrawal flags on disk win over an executor's copy: `org withdraw` / `org enable` may have run since the
 * copy was read (a long `org run` step). A withdrawn asset's sets are forgotten (the executor's next plan removes
 * any record it published meanwhile); an enabled one is signed afresh. Mutates `state`, so the caller's next plan
 * sees the same thing as the file.
 */
export function adoptWithdrawals(state: OrgState, disk: OrgState): void {
  state.nextGeneration = Math.max(state.nextGeneration, disk.nextGeneration);
  for (const [asset, d] of Object.entries(disk.assets)) {
    const mine = state.assets[asset];
    if (d.withdrawn) {
      const a = mine ?? assetState(state, asset);
      if (!a.withdrawn) a.channels = { ...d.channels };
      a.withdrawn = true;
      a.withdrawnAt = d.withdrawnAt ?? null;
      a.cacheHorizon = d.cacheHorizon ?? null;
      a.current = null;
      a.pending = null;
    } else if (mine?.withdrawn) {
      mine.withdrawn = false;
      mine.withdrawnAt = null;
      mine.cacheHorizon = null;
      mine.failures = d.failures;
      mine.lastAttempt = d.lastAttempt;
      mine.lastError = d.lastError;
    }
  }
}

/**
 * The executor's write (apply, run): every completed step is recorded with an atomic write, so a crash leaves the
 * state before or after the step. The withdrawal flags are re-read from disk first (adoptWithdrawals), under the
 * folder lock, so a concurrent `org withdraw` is never undone by this write.
 */
export async function saveState(dir: string, state: OrgState): Promise<void> {
  await withStateLock(dir, async () => {
    const disk = await loadForMerge(dir);
    if (disk) adoptWithdrawals(state, disk);
    await writeState(dir, state);
  });
}

/**
 * The write of `org withdraw` / `org enable`: only these assets' entries are taken from `state`; everything else is
 * kept as on disk (an executor may have recorded steps for other assets meanwhile).
 */
export async function saveAssets(dir: string, state: OrgState, assets: string[]): Promise<void> {
  await withStateLock(dir, async () => {
    const disk = (await loadForMerge(dir)) ?? emptyState();
    disk.nextGeneration = Math.max(disk.nextGeneration, state.nextGeneration);
    for (const asset of assets) {
      const a = state.assets[asset];
      if (a) disk.assets[asset] = a;
    }
    await writeState(dir, disk);
  });
}

export function toJson(r: DnsRecord): RecordJson {
  return { name: r.name, type: r.type, ttl: r.ttl, rdata: Buffer.from(r.rdata).toString('hex') };
}

export function fromJson(r: RecordJson): DnsRecord {
  return { name: r.name, type: r.type, ttl: r.ttl, rdata: Buffer.from(r.rdata, 'hex') };
}
