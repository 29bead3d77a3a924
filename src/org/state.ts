import { readFile } from 'node:fs/promises';
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
  /** Level seen on the authoritative servers when it verified. */
  level?: string | null;
}

export interface AssetState {
  withdrawn: boolean;
  withdrawnAt?: number | null;
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

/** Every completed step is recorded with an atomic write: a crash leaves the state before or after the step. */
export async function saveState(dir: string, state: OrgState): Promise<void> {
  await writeFileAtomic(join(dir, STATE_FILE), `${JSON.stringify(state, null, 1)}\n`, 0o600);
}

export function toJson(r: DnsRecord): RecordJson {
  return { name: r.name, type: r.type, ttl: r.ttl, rdata: Buffer.from(r.rdata).toString('hex') };
}

export function fromJson(r: RecordJson): DnsRecord {
  return { name: r.name, type: r.type, ttl: r.ttl, rdata: Buffer.from(r.rdata, 'hex') };
}
