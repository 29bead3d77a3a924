import { createHash } from 'node:crypto';
import { bytesEqual, hashLeaf, verifyConsistency, verifyInclusion } from '../core/merkle/index.js';
import { EmblemError, reportError, type ReportedError } from '../core/errors.js';
import { parseCheckpoint, verifyCheckpoint, type EvidenceCheckpoint } from './checkpoint.js';
import { evidenceError, EvidenceErrorCodes } from './errors.js';
import { EvidenceLimits } from './limits.js';
import { fromBase64Strict, toBase64 } from './base64.js';
import { readObserverVerifier, readPublishedCheckpoint } from './log.js';
import { parseObservationRecord, replayObservation } from './replay.js';
import { formatNote, parseVerifierKey } from './signed-note.js';
import { TileTreeReader } from './tile-reader.js';
import { TILE_WIDTH } from './tile-path.js';

/**
 * Evidence bundles: the observations of one target around one time, each with its leaf index and an inclusion
 * proof to a signed checkpoint, in one JSON file a third party verifies offline with the observer's public key.
 *
 * The checkpoint is authenticated by the observer's signature, each entry by its proof; `target` and `at` (what
 * was asked) are bound to the entries (same target) and, like the rest, covered by `digest` and a canonical
 * serialisation, so that any changed byte fails with a code (a digest is not a signature: an editor can recompute
 * it, but can then change only what was asked, never what was observed).
 */
export const BUNDLE_FORMAT = 'emblem-evidence-bundle/v1';

export interface BundleEntry {
  leafIndex: number;
  /** The raw entry bytes (UTF-8 JSON of an ObservationRecord), base64. */
  entry: string;
  inclusionProof: string[];
}

export interface EvidenceBundle {
  format: typeof BUNDLE_FORMAT;
  target: string;
  at: string;
  checkpoint: string;
  entries: BundleEntry[];
  /** "sha256:<hex>" of the canonical JSON of the fields above. */
  digest: string;
}

/** Lookup of leaf indexes by the observatory's database (the observation index); else the log is scanned. */
export interface ObservationIndexLookup {
  observations(target: string, from: string, to: string, limit?: number): Promise<Array<{ time: string; vantagePoint: string; status: string; leafIndex: number | null }>>;
}

export interface ExportOptions {
  evidenceDir: string;
  target: string;
  /** A Date or an ISO-8601 text (as the HTTP API receives it). */
  at: Date | string;
  /** Observations per vantage point after `at` (default 1; at most EvidenceLimits.maxFollowing). */
  following?: number;
  database?: ObservationIndexLookup;
}

/** The index's whole window: stores take four-digit-year ISO times only (new Date(8.64e15) would be +275760-…). */
const INDEX_FROM = Date.parse('1970-01-01T00:00:00.000Z');
const INDEX_TO = Date.parse('9999-12-31T23:59:59.999Z');

interface Candidate {
  leafIndex: number;
  time: number;
  status: string;
}

interface VantageWindow {
  beforePrev: Candidate | null;
  before: Candidate | null;
  after: Candidate[];
}

function digestOf(b: Omit<EvidenceBundle, 'digest'>): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(b)).digest('hex')}`;
}

function canonical(b: Omit<EvidenceBundle, 'digest'>): EvidenceBundle {
  const body = { format: b.format, target: b.target, at: b.at, checkpoint: b.checkpoint, entries: b.entries.map((e) => ({ leafIndex: e.leafIndex, entry: e.entry, inclusionProof: [...e.inclusionProof] })) };
  return { ...body, digest: digestOf(body) };
}

export function serializeBundle(b: EvidenceBundle): string {
  return `${JSON.stringify(b, null, 2)}\n`;
}

/**
 * Reads the observation index only next to `at`, so a target watched for years (far more rows than one query may
 * return) is found like a new one: backwards from `at` in time slices until every vantage point seen has its last
 * two observations at or before `at`, then forwards until each has `following` after it. A slice doubles while it
 * holds less than a page and halves while it holds more (the rows nearest `at` are the ones needed, and the index
 * returns the earliest first). Each side makes at most EvidenceLimits.maxIndexQueries queries.
 */
async function fromIndexAround(
  db: ObservationIndexLookup,
  target: string,
  at: number,
  following: number,
  treeSize: number,
  windows: Map<string, VantageWindow>,
  consider: (vp: string, c: Candidate) => void,
): Promise<void> {
  const seen = new Set<number>();
  const page = EvidenceLimits.indexPageRows;
  const iso = (t: number) => new Date(Math.min(Math.max(t, INDEX_FROM), INDEX_TO)).toISOString();
  const query = async (from: number, to: number) => {
    const rows = await db.observations(target, iso(from), iso(to), page);
    return { full: rows.length >= page, rows };
  };
  const take = (rows: Array<{ time: string; vantagePoint: string; status: string; leafIndex: number | null }>) => {
    for (const r of rows) {
      if (r.leafIndex === null || r.leafIndex >= treeSize || seen.has(r.leafIndex)) continue;
      seen.add(r.leafIndex);
      consider(r.vantagePoint, { leafIndex: r.leafIndex, time: Date.parse(r.time), status: r.status });
    }
  };
  const all = (done: (w: VantageWindow) => boolean) => windows.size > 0 && [...windows.values()].every(done);
  // Backwards: [lo, hi] with hi = at, then earlier slices.
  let hi = at;
  let span = EvidenceLimits.indexFirstSliceMs;
  for (let q = 0; q < EvidenceLimits.maxIndexQueries && hi >= INDEX_FROM; q++) {
    const lo = Math.max(hi - span + 1, INDEX_FROM);
    const { full, rows } = await query(lo, hi);
    if (full && hi > lo) {
      span = Math.max(1, Math.floor(span / 2)); // more rows than a page: look at a shorter slice next to `at` first
      continue;
    }
    take(rows);
    if (all((w) => w.before !== null && w.beforePrev !== null)) break;
    hi = lo - 1;
    span *= 2;
  }
  // Forwards: the index returns the earliest rows of a slice first, so a full page is simply continued.
  let lo = at + 1;
  span = EvidenceLimits.indexFirstSliceMs;
  for (let q = 0; q < EvidenceLimits.maxIndexQueries && lo <= INDEX_TO; q++) {
    if (all((w) => w.after.length >= following)) break;
    const to = Math.min(lo + span - 1, INDEX_TO);
    const { full, rows } = await query(lo, to);
    take(rows);
    if (full) {
      const last = Date.parse(rows[rows.length - 1]!.time);
      // Rows of the last millisecond may continue on the next page: start there again (seen rows are skipped),
      // unless the whole page is one millisecond (then move on: at most a page per millisecond is read).
      lo = last > lo ? last : last + 1;
      continue;
    }
    lo = to + 1;
    span *= 2;
  }
}

/**
 * Collects, per vantage point, the last observation at or before `at`, the one before it when its status differs
 * (so a bundle at the first "missing" observation still shows the last "protected" one), and the next `following`
 * ones after `at` (so a bundle at the last "protected" one shows the first "missing" one). Streams the entry
 * bundles of the published tree one at a time; a cheap substring test skips other targets' entries unparsed.
 * With the observation index, only the rows next to `at` are read (fromIndexAround).
 */
export async function exportEvidenceBundle(options: ExportOptions): Promise<EvidenceBundle> {
  const following = Math.min(Math.max(1, options.following ?? 1), EvidenceLimits.maxFollowing);
  const verifier = await readObserverVerifier(options.evidenceDir);
  const cp = await readPublishedCheckpoint(options.evidenceDir, verifier);
  if (!cp) throw evidenceError(EvidenceErrorCodes.EVIDENCE_UNAVAILABLE, `${options.evidenceDir} has no published checkpoint yet`);
  const reader = new TileTreeReader(options.evidenceDir, cp.size);
  const atDate = typeof options.at === 'string' ? new Date(options.at) : options.at;
  const at = atDate.getTime();
  if (Number.isNaN(at)) throw new EmblemError('USAGE', `at: ${JSON.stringify(String(options.at))} is not a time`);
  const windows = new Map<string, VantageWindow>();
  const consider = (vp: string, c: Candidate) => {
    let w = windows.get(vp);
    if (!w) {
      if (windows.size >= EvidenceLimits.maxBundleEntries) return;
      w = { beforePrev: null, before: null, after: [] };
      windows.set(vp, w);
    }
    if (c.time <= at) {
      if (!w.before || c.time >= w.before.time) {
        w.beforePrev = w.before;
        w.before = c;
      } else if (!w.beforePrev || c.time >= w.beforePrev.time) w.beforePrev = c;
    } else {
      w.after.push(c);
      w.after.sort((x, y) => x.time - y.time || x.leafIndex - y.leafIndex);
      if (w.after.length > following) w.after.length = following;
    }
  };
  if (options.database) {
    // The index narrows the search to the observations next to `at`; the entries themselves are still read from the log.
    await fromIndexAround(options.database, options.target, at, following, cp.size, windows, consider);
  } else {
    const needle = Buffer.from(`"target":${JSON.stringify(options.target)}`);
    for (let b = 0; b * TILE_WIDTH < cp.size; b++) {
      const entries = await reader.entryBundle(b);
      entries.forEach((e, k) => {
        if (Buffer.from(e.buffer, e.byteOffset, e.byteLength).indexOf(needle) < 0) return;
        let r;
        try {
          r = parseObservationRecord(e);
        } catch {
          return; // not an observation of ours; verification would refuse it anyway
        }
        if (r.target === options.target) consider(r.vantagePoint, { leafIndex: b * TILE_WIDTH + k, time: Date.parse(r.time), status: r.status });
      });
    }
  }
  const chosen = new Set<number>();
  for (const w of windows.values()) {
    if (w.before) chosen.add(w.before.leafIndex);
    if (w.before && w.beforePrev && w.beforePrev.status !== w.before.status) chosen.add(w.beforePrev.leafIndex);
    for (const c of w.after) chosen.add(c.leafIndex);
  }
  if (chosen.size === 0) throw evidenceError(EvidenceErrorCodes.EVIDENCE_NOT_FOUND, `no observation of ${options.target} in the log`);
  const indexes = [...chosen].sort((a, b) => a - b).slice(0, EvidenceLimits.maxBundleEntries);
  const entries: BundleEntry[] = [];
  for (const leafIndex of indexes) {
    const bundleEntries = await reader.entryBundle(Math.floor(leafIndex / TILE_WIDTH));
    const entry = bundleEntries[leafIndex % TILE_WIDTH]!;
    if (!bytesEqual(hashLeaf(entry), await reader.leafHash(leafIndex))) {
      throw evidenceError(EvidenceErrorCodes.EVIDENCE_LOG_CORRUPT, `entry ${leafIndex} does not match its leaf hash`);
    }
    // The database index is not trusted to point at the right entry: a stale or wrong index is caught here.
    let record;
    try {
      record = parseObservationRecord(entry);
    } catch {
      record = null;
    }
    if (record?.target !== options.target) {
      throw evidenceError(EvidenceErrorCodes.EVIDENCE_LOG_CORRUPT, `entry ${leafIndex} is not an observation of ${options.target}: the observation index and the log disagree`);
    }
    entries.push({ leafIndex, entry: toBase64(entry), inclusionProof: (await reader.inclusionProof(leafIndex)).map(toBase64) });
  }
  return canonical({ format: BUNDLE_FORMAT, target: options.target, at: atDate.toISOString(), checkpoint: formatNote(cp.note), entries });
}

export interface VerifiedEntry {
  leafIndex: number;
  target: string | null;
  time: string | null;
  vantagePoint: string | null;
  recordedStatus: string | null;
  recomputedStatus: string | null;
  /** The public keys (JWK) the observer pinned for this observation, as recorded; the replay trusted exactly these. */
  trustedKeys: unknown[];
  ok: boolean;
  errors: ReportedError[];
}

export interface BundleVerification {
  ok: boolean;
  target: string | null;
  at: string | null;
  checkpoint: { origin: string; size: number; rootHash: string; observer: string } | null;
  entries: VerifiedEntry[];
  errors: ReportedError[];
  notes: string[];
}

const OFFLINE_NOTE = 'Root-key commitments in Certificate Transparency cannot be checked offline: they were skipped in the re-verification.';

function parseBundleText(text: string): EvidenceBundle {
  const bad = (why: string): never => {
    throw evidenceError(EvidenceErrorCodes.EVIDENCE_BUNDLE_MALFORMED, `bundle: ${why}`);
  };
  if (typeof text !== 'string') bad('not text');
  if (text.length > EvidenceLimits.maxBundleBytes) bad(`larger than ${EvidenceLimits.maxBundleBytes} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    bad('not JSON');
  }
  const b = v as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('not an object');
  if (b.format !== BUNDLE_FORMAT) bad(`format is not ${BUNDLE_FORMAT}`);
  for (const k of ['target', 'at', 'checkpoint', 'digest'] as const) if (typeof b[k] !== 'string') bad(`${k} is not a string`);
  if (Number.isNaN(Date.parse(b.at as string)) || new Date(b.at as string).toISOString() !== b.at) bad('at is not an ISO-8601 UTC time');
  if (!Array.isArray(b.entries) || b.entries.length === 0 || b.entries.length > EvidenceLimits.maxBundleEntries) bad('entries is not a list of 1..256');
  for (const e of b.entries as unknown[]) {
    const x = e as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || !Number.isSafeInteger(x.leafIndex) || (x.leafIndex as number) < 0) bad('an entry has no leafIndex');
    if (typeof x.entry !== 'string' || !Array.isArray(x.inclusionProof) || x.inclusionProof.length > EvidenceLimits.maxProofHashes || !x.inclusionProof.every((p) => typeof p === 'string')) {
      bad('an entry lacks its bytes or proof');
    }
  }
  const bundle = canonical(b as unknown as EvidenceBundle);
  if (bundle.digest !== b.digest) bad('the digest does not match the content');
  // Canonical text only: whitespace or member order changes are changes too.
  if (serializeBundle(bundle) !== text) bad('not in the canonical form this version writes');
  return bundle;
}

/**
 * Verifies a bundle offline: the checkpoint's signature by the observer's key, each entry's inclusion proof to the
 * checkpoint's root, each entry as an ObservationRecord of the bundle's target, and a re-run of the ADEM
 * verification of its raw DNS answers at its recorded time (commitments skipped), which must give the recorded
 * status. Never throws on hostile input: failures are codes in the result.
 */
export async function verifyEvidenceBundle(bundleJson: string, observerKeyText: string): Promise<BundleVerification> {
  const out: BundleVerification = { ok: false, target: null, at: null, checkpoint: null, entries: [], errors: [], notes: [OFFLINE_NOTE] };
  let bundle: EvidenceBundle;
  let cp: EvidenceCheckpoint;
  try {
    const verifier = parseVerifierKey(observerKeyText);
    bundle = parseBundleText(bundleJson);
    out.target = bundle.target;
    out.at = bundle.at;
    cp = verifyCheckpoint(bundle.checkpoint, verifier);
    out.checkpoint = { origin: cp.origin, size: cp.size, rootHash: toBase64(cp.rootHash), observer: verifier.name };
  } catch (err) {
    out.errors.push(reportError(err));
    return out;
  }
  const seen = new Set<number>();
  for (const e of bundle.entries) {
    const v: VerifiedEntry = { leafIndex: e.leafIndex, target: null, time: null, vantagePoint: null, recordedStatus: null, recomputedStatus: null, trustedKeys: [], ok: false, errors: [] };
    out.entries.push(v);
    const fail = (code: string, message: string) => v.errors.push({ code, message });
    if (seen.has(e.leafIndex)) fail(EvidenceErrorCodes.EVIDENCE_BUNDLE_MALFORMED, 'leaf index listed twice');
    seen.add(e.leafIndex);
    const entry = fromBase64Strict(e.entry, EvidenceLimits.maxEntryBytes);
    const proof = e.inclusionProof.map((p) => fromBase64Strict(p, 32));
    if (!entry || proof.some((p) => !p || p.length !== 32)) {
      fail(EvidenceErrorCodes.EVIDENCE_BUNDLE_MALFORMED, 'entry or proof is not canonical base64 of the right size');
      continue;
    }
    if (!verifyInclusion(e.leafIndex, cp.size, hashLeaf(entry), proof as Uint8Array[], cp.rootHash)) {
      fail(EvidenceErrorCodes.EVIDENCE_INCLUSION_INVALID, `entry ${e.leafIndex} is not in the tree of size ${cp.size} the checkpoint signs`);
    }
    try {
      const record = parseObservationRecord(entry);
      Object.assign(v, { target: record.target, time: record.time, vantagePoint: record.vantagePoint, recordedStatus: record.status, trustedKeys: record.trustedKeys ?? [] });
      if (record.target !== bundle.target) fail(EvidenceErrorCodes.EVIDENCE_TARGET_MISMATCH, `entry is for ${record.target}, the bundle for ${bundle.target}`);
      const replay = await replayObservation(record);
      v.recomputedStatus = replay.status;
      for (const x of replay.errors) v.errors.push(x);
      if (replay.status === null) {
        if (record.status !== 'error') fail(EvidenceErrorCodes.EVIDENCE_STATUS_MISMATCH, `the observation failed (${record.error?.code}) but records status ${record.status}`);
      } else if (replay.status !== record.status) {
        fail(EvidenceErrorCodes.EVIDENCE_STATUS_MISMATCH, `recorded ${record.status}, the recorded answers verify as ${replay.status}`);
      }
    } catch (err) {
      v.errors.push(reportError(err));
    }
    v.ok = v.errors.length === 0;
  }
  out.ok = out.errors.length === 0 && out.entries.every((x) => x.ok);
  return out;
}

export interface AuditOptions {
  evidenceDir: string;
  fromCheckpointText: string;
}

export interface AuditResult {
  ok: boolean;
  origin: string | null;
  from: { size: number; rootHash: string } | null;
  to: { size: number; rootHash: string; checkpoint: string } | null;
  proof: string[];
  errors: ReportedError[];
}

/**
 * Proves that the log's current checkpoint extends an older one: both signed by the observer (observer.pub), same
 * origin, and an RFC 9162 consistency proof built from the tiles and checked with core/merkle. Also re-hashes the
 * current tree from its tiles, so damaged tiles are found too.
 */
export async function auditEvidence(options: AuditOptions): Promise<AuditResult> {
  const out: AuditResult = { ok: false, origin: null, from: null, to: null, proof: [], errors: [] };
  try {
    const verifier = await readObserverVerifier(options.evidenceDir);
    const current = await readPublishedCheckpoint(options.evidenceDir, verifier);
    if (!current) throw evidenceError(EvidenceErrorCodes.EVIDENCE_UNAVAILABLE, `${options.evidenceDir} has no published checkpoint`);
    out.to = { size: current.size, rootHash: toBase64(current.rootHash), checkpoint: formatNote(current.note) };
    out.origin = current.origin;
    const old = verifyCheckpoint(options.fromCheckpointText, verifier, { origin: current.origin });
    out.from = { size: old.size, rootHash: toBase64(old.rootHash) };
    if (old.size > current.size) {
      throw evidenceError(EvidenceErrorCodes.EVIDENCE_CONSISTENCY_INVALID, `the old checkpoint has ${old.size} entries, the current one only ${current.size}: the log shrank`);
    }
    const reader = new TileTreeReader(options.evidenceDir, current.size);
    if (!bytesEqual(await reader.root(), current.rootHash)) {
      throw evidenceError(EvidenceErrorCodes.EVIDENCE_LOG_CORRUPT, 'the tiles do not hash to the current checkpoint\'s root');
    }
    const proof = await reader.consistencyProof(old.size);
    out.proof = proof.map(toBase64);
    if (!verifyConsistency(old.size, current.size, old.rootHash, current.rootHash, proof)) {
      throw evidenceError(EvidenceErrorCodes.EVIDENCE_CONSISTENCY_INVALID, `the checkpoint of size ${current.size} is not consistent with the one of size ${old.size}`);
    }
    out.ok = true;
  } catch (err) {
    if (!(err instanceof EmblemError)) throw err;
    out.errors.push(reportError(err));
  }
  return out;
}

export { parseCheckpoint };
