import type { CommitmentChecker, CommitmentOutcome, CommitmentRequest, LogPointer } from '../core/verify/commitment.js';
import { EmblemError, reportError, type ReportedError } from '../core/errors.js';
import { Limits } from '../core/limits.js';
import { bytesEqual, hashLeaf } from '../core/merkle/hash.js';
import { verifyInclusion } from '../core/merkle/inclusion.js';
import { checkBinding, DEFAULT_BINDING_POLICY, type BindingPolicy, type BindingResult } from './binding.js';
import { toBase64 } from './bytes.js';
import { summarizeCertificate, summarizeTbs, type CertificateSummary } from './certificate-parse.js';
import type { ChainReport, LogChainSource } from './chain-report.js';
import type { DigitallySignedVerifier } from './digitally-signed.js';
import { ctError, CtErrorCodes } from './errors.js';
import { fetchHttp, type Gunzip, type HttpClient } from './http.js';
import { isUsableState, type ListedLog, type LogDirectory } from './log-list.js';
import { combineEntryStatuses, isCouldNotCheck } from './outcome-class.js';
import { parseMerkleTreeLeaf, type TimestampedEntry } from './merkle-tree-leaf.js';
import { Rfc6962Reader } from './rfc6962-reader.js';
import { StaticCtReader, TileCache } from './static-ct-reader.js';
import type { TileLeaf } from './tile-leaf.js';
import { TreeHeadHistory } from './tree-head-history.js';
import type { TreeHead } from './tree-head.js';

/** "all": every `log` entry must verify (prototype behaviour, default). "any": one verified entry suffices. */
export type CommitmentPolicy = 'all' | 'any';

/** A chain the checker did not validate (the browser extension: no root store, no issuer fetches). */
export interface ChainNotChecked {
  length: number;
  valid: 'not-checked';
  reason: string;
}

export type EntryChain = ChainReport | ChainNotChecked;

/** Validates the chain a log stored with a proven entry (src/ct/chain-validation.ts's LogChainValidator in Node). */
export interface EntryChainChecker {
  rfc6962(log: ListedLog, source: LogChainSource, entry: TimestampedEntry, extraData: Uint8Array): Promise<EntryChain>;
  tiled(log: ListedLog, source: LogChainSource, leaf: TileLeaf): Promise<EntryChain>;
}

/** What differs between Node and the browser: signature checks, gzip, chain validation. */
export interface CtPlatform {
  verify: DigitallySignedVerifier;
  gunzip: Gunzip;
  chains: EntryChainChecker;
}

export interface CtCommitmentCheckerBaseOptions {
  /** Where the log list comes from; called once per `logListTtlMs`. */
  logDirectory: () => Promise<LogDirectory>;
  policy?: CommitmentPolicy;
  binding?: BindingPolicy;
  http?: HttpClient;
  treeHeads?: TreeHeadHistory;
  /** How long a fetched tree head is reused before asking the log again. */
  treeHeadTtlMs?: number;
  /** How long a proven log entry (its certificate) is reused; proofs of inclusion do not go stale. */
  entryTtlMs?: number;
  logListTtlMs?: number;
  now?: () => number;
}

export type { ChainReport } from './chain-report.js';

/** The per-entry detail behind a CommitmentOutcome (printed by `emblem ct check`). */
export interface LogEntryReport {
  log: { ver?: string; id: string; hash?: string; index?: number };
  logDescription: string | null;
  /** unavailable: could not be checked (see outcome-class.ts), which is not a proven failure. */
  status: 'verified' | 'failed' | 'unavailable';
  errors: ReportedError[];
  notes: string[];
  certificate?: Pick<CertificateSummary, 'subject' | 'issuer' | 'dnsNames' | 'serialNumber'> & { notBefore: string; notAfter: string };
  binding?: Pick<BindingResult, 'matched' | 'validity'>;
  entryType?: TimestampedEntry['entryType'];
  /** Size of the verified tree the entry was proven in. */
  treeSize?: number;
  leafIndex?: number;
  /** The chain the log stored with the entry, validated (src/ct/chain-validation.ts; failures are CT_CHAIN_INVALID). */
  chain?: EntryChain;
}

export interface DetailedCommitmentOutcome extends CommitmentOutcome {
  policy: CommitmentPolicy;
  entries: LogEntryReport[];
  warnings: string[];
}

interface ProvenEntry {
  entry: TimestampedEntry;
  certificate: CertificateSummary;
  treeSize: number;
  leafIndex: number;
  chain: EntryChain;
}

export function pointerKind(p: LogPointer): 'rfc6962' | 'tiled' {
  if (p.ver === 'static') return 'tiled';
  if (p.ver === 'v1') return 'rfc6962';
  return p.index !== undefined && p.hash === undefined ? 'tiled' : 'rfc6962';
}

export function pointerJson(p: LogPointer): LogEntryReport['log'] {
  return {
    ...(p.ver ? { ver: p.ver } : {}),
    id: toBase64(p.id),
    ...(p.hash ? { hash: toBase64(p.hash) } : {}),
    ...(p.index !== undefined ? { index: p.index } : {}),
  };
}

/**
 * The real root-key commitment check (SPEC-NOTES §1.5, §4, §5.5): for each `log` pointer, find the log in the
 * list, verify its signed tree head (and its consistency with heads seen before), prove the entry's inclusion,
 * re-hash the entry, and check that the logged certificate binds the key's kid to the issuer's host.
 *
 * Caches (all per instance, all bounded in time): the log list, tree heads, proven entries. A warm checker answers
 * a repeated question without network traffic; the binding itself is always re-evaluated (it depends on `now`).
 * Pure: CtCommitmentChecker (commitment-checker.ts) runs it on node:crypto, the browser extension on WebCrypto.
 */
export class CtCommitmentCheckerBase implements CommitmentChecker {
  private readonly policy: CommitmentPolicy;
  private readonly bindingPolicy: BindingPolicy;
  private readonly http: HttpClient;
  private readonly treeHeads: TreeHeadHistory;
  private readonly clock: () => number;
  private readonly tiles = new TileCache();
  private directory: { value: Promise<LogDirectory>; at: number } | null = null;
  private readonly heads = new Map<string, { value: Promise<TreeHead>; at: number }>();
  private readonly proven = new Map<string, { value: Promise<ProvenEntry>; at: number }>();
  private readonly chains: EntryChainChecker;

  constructor(
    private readonly options: CtCommitmentCheckerBaseOptions,
    private readonly platform: CtPlatform,
  ) {
    this.policy = options.policy ?? 'all';
    this.bindingPolicy = options.binding ?? DEFAULT_BINDING_POLICY;
    this.http = options.http ?? fetchHttp;
    this.treeHeads = options.treeHeads ?? new TreeHeadHistory();
    this.clock = options.now ?? Date.now;
    this.chains = platform.chains;
  }

  async check(request: CommitmentRequest): Promise<DetailedCommitmentOutcome> {
    const entries: LogEntryReport[] = [];
    let warnings: string[] = [];
    if (request.logs.length === 0) {
      return { status: 'failed', policy: this.policy, entries, warnings, errors: [{ code: 'ROOT_LOG_MISSING', message: 'no log entries to check' }] };
    }
    if (request.logs.length > Limits.maxLogEntries) {
      return { status: 'failed', policy: this.policy, entries, warnings, errors: [{ code: 'LIMIT_EXCEEDED', message: `more than ${Limits.maxLogEntries} log entries` }] };
    }
    let directory: LogDirectory;
    try {
      directory = await this.logDirectory();
      warnings = directory.warnings.slice(0, 20);
    } catch (err) {
      const error = reportError(err);
      return { status: isCouldNotCheck(error.code) ? 'unavailable' : 'failed', policy: this.policy, entries, warnings, errors: [error] };
    }
    entries.push(...(await Promise.all(request.logs.map((p) => this.checkPointer(p, request, directory)))));
    const status = combineEntryStatuses(this.policy, entries.map((e) => e.status));
    const errors = status === 'verified' ? [] : entries.flatMap((e) => e.errors);
    return { status, errors, policy: this.policy, entries, warnings };
  }

  /** The logs of the current log list (for naming log IDs in reports, e.g. the dashboard's chain drawing). */
  async listedLogs(): Promise<ListedLog[]> {
    return (await this.logDirectory()).logs;
  }

  private logDirectory(): Promise<LogDirectory> {
    const now = this.clock();
    const ttl = this.options.logListTtlMs ?? 10 * 60_000;
    if (!this.directory || now - this.directory.at > ttl) {
      const value = this.options.logDirectory();
      this.directory = { value, at: now };
      value.catch(() => (this.directory = null));
    }
    return this.directory.value;
  }

  private async checkPointer(p: LogPointer, request: CommitmentRequest, directory: LogDirectory): Promise<LogEntryReport> {
    const report: LogEntryReport = { log: pointerJson(p), logDescription: null, status: 'failed', errors: [], notes: [] };
    try {
      const kind = pointerKind(p);
      const log = directory.find(kind, p.id);
      if (!log) {
        const other = directory.findAny(p.id);
        throw ctError(
          CtErrorCodes.CT_LOG_UNKNOWN,
          other
            ? `log ${toBase64(p.id)} (${other.description}) is listed as a ${other.kind} log, but the entry needs a ${kind} log`
            : `log ${toBase64(p.id)} is not in the log list`,
        );
      }
      report.logDescription = log.description;
      if (!isUsableState(log.state)) {
        throw ctError(CtErrorCodes.CT_LOG_NOT_USABLE, `log ${log.description} is ${log.state}${log.stateTimestamp ? ` since ${log.stateTimestamp}` : ''}`);
      }
      const proven = kind === 'tiled' ? await this.proveTiled(log, p) : await this.proveRfc6962(log, p);
      report.entryType = proven.entry.entryType;
      report.treeSize = proven.treeSize;
      report.leafIndex = proven.leafIndex;
      report.chain = proven.chain;
      const c = proven.certificate;
      report.certificate = {
        subject: c.subject,
        issuer: c.issuer,
        serialNumber: c.serialNumber,
        dnsNames: c.dnsNames,
        notBefore: c.notBefore.toISOString(),
        notAfter: c.notAfter.toISOString(),
      };
      const binding = checkBinding(c, { host: request.host, kid: request.kid, now: request.now }, this.bindingPolicy);
      report.binding = { matched: binding.matched, validity: binding.validity };
      report.notes.push(...binding.notes);
      report.errors.push(...binding.errors);
      report.status = binding.ok ? 'verified' : 'failed';
    } catch (err) {
      const error = reportError(err);
      report.errors.push(error);
      if (isCouldNotCheck(error.code)) report.status = 'unavailable';
    }
    return report;
  }

  /**
   * Proves each entry once per TTL: concurrent checks of the same entry (a scan of many emblems under one
   * authority) share one in-flight proof. Failures are not cached, so a transient outage is retried.
   */
  private provenOnce(key: string, produce: () => Promise<ProvenEntry>): Promise<ProvenEntry> {
    const now = this.clock();
    const hit = this.proven.get(key);
    if (hit && now - hit.at <= (this.options.entryTtlMs ?? 60 * 60_000)) return hit.value;
    if (this.proven.size >= 10_000) this.proven.delete(this.proven.keys().next().value!);
    const value = produce();
    this.proven.set(key, { value, at: now });
    value.catch(() => {
      if (this.proven.get(key)?.value === value) this.proven.delete(key);
    });
    return value;
  }

  /**
   * An entry logged after the cached tree head was fetched is not in it yet: on CT_LEAF_NOT_FOUND with a cached
   * head, fetch a new head once and try again (a log that still does not have it fails for real).
   */
  private async withFreshHeadOnMiss(log: ListedLog, prove: () => Promise<ProvenEntry>): Promise<ProvenEntry> {
    const key = `${log.kind}:${log.logIdBase64}`;
    const cachedBefore = this.heads.has(key);
    try {
      return await prove();
    } catch (err) {
      if (!cachedBefore || !(err instanceof EmblemError) || err.code !== CtErrorCodes.CT_LEAF_NOT_FOUND) throw err;
      this.heads.delete(key);
      return prove();
    }
  }

  /** Tree heads are fetched at most once per TTL per log, and every new one is checked for consistency. */
  private treeHead(log: ListedLog, fetchHead: () => Promise<TreeHead>, prove: (a: number, b: number) => Promise<Uint8Array[]>): Promise<TreeHead> {
    const key = `${log.kind}:${log.logIdBase64}`;
    const now = this.clock();
    const hit = this.heads.get(key);
    if (hit && now - hit.at <= (this.options.treeHeadTtlMs ?? 60_000)) return hit.value;
    const value = (async () => {
      const head = await fetchHead();
      await this.treeHeads.observe(log.logIdBase64, head, prove);
      return head;
    })();
    this.heads.set(key, { value, at: now });
    value.catch(() => this.heads.delete(key));
    return value;
  }

  private proveRfc6962(log: ListedLog, p: LogPointer): Promise<ProvenEntry> {
    if (!p.hash || p.hash.length !== 32) throw ctError('COMMITMENT_FAILED', 'an RFC 6962 log entry needs a 32-byte hash');
    const hash = p.hash;
    return this.provenOnce(`rfc6962:${log.logIdBase64}:${toBase64(hash)}`, () => this.withFreshHeadOnMiss(log, () => this.proveRfc6962Entry(log, hash)));
  }

  private async proveRfc6962Entry(log: ListedLog, leafHash: Uint8Array): Promise<ProvenEntry> {
    const client = new Rfc6962Reader({ url: log.url!, key: log.key, description: log.description }, this.http, this.platform.verify);
    const head = await this.treeHead(log, () => client.getSth(), (a, b) => client.getConsistency(a, b));
    if (head.treeSize === 0) throw ctError(CtErrorCodes.CT_LEAF_NOT_FOUND, `${log.description} is empty`);
    const { leafIndex, auditPath } = await client.getProofByHash(leafHash, head.treeSize);
    if (!verifyInclusion(leafIndex, head.treeSize, leafHash, auditPath, head.rootHash)) {
      throw ctError(CtErrorCodes.CT_AUDIT_PATH_INVALID, `${log.description}: audit path for leaf ${leafIndex} does not lead to the signed root of size ${head.treeSize}`);
    }
    const raw = await client.getEntry(leafIndex);
    // The proof covers the hash we asked about; the certificate we judge must be the one that hashes to it.
    if (!bytesEqual(hashLeaf(raw.leafInput), leafHash)) {
      throw ctError(CtErrorCodes.CT_ENTRY_MISMATCH, `${log.description}: entry ${leafIndex} does not hash to ${toBase64(leafHash)}`);
    }
    const entry = parseMerkleTreeLeaf(raw.leafInput);
    const certificate = entry.entryType === 'x509' ? summarizeCertificate(entry.certificate) : summarizeTbs(entry.certificate);
    const chain = await this.chains.rfc6962(log, { roots: () => client.getRoots() }, entry, raw.extraData);
    return { entry, certificate, treeSize: head.treeSize, leafIndex, chain };
  }

  private proveTiled(log: ListedLog, p: LogPointer): Promise<ProvenEntry> {
    if (p.index === undefined || !Number.isSafeInteger(p.index) || p.index < 0) throw ctError('COMMITMENT_FAILED', 'a static-ct log entry needs a non-negative integer index');
    const index = p.index;
    return this.provenOnce(`tiled:${log.logIdBase64}:${index}`, () => this.withFreshHeadOnMiss(log, () => this.proveTiledEntry(log, index)));
  }

  private async proveTiledEntry(log: ListedLog, index: number): Promise<ProvenEntry> {
    const client = new StaticCtReader(
      { monitoringUrl: log.monitoringUrl!, submissionUrl: log.submissionUrl!, logId: log.logId, key: log.key, description: log.description },
      this.http,
      this.tiles,
      this.platform,
    );
    const head = await this.treeHead(log, () => client.getCheckpoint(), (a, b) => client.consistencyProof(a, b));
    const { leaf } = await client.provenEntry(index, head);
    const entry = leaf.entry;
    const certificate = entry.entryType === 'x509' ? summarizeCertificate(entry.certificate) : summarizeTbs(entry.certificate);
    // static-ct logs serve get-roots under their submission prefix (C2SP static-ct-api, "Submission APIs").
    const submission = new Rfc6962Reader({ url: log.submissionUrl!, key: log.key, description: log.description }, this.http, this.platform.verify);
    const chain = await this.chains.tiled(log, { roots: () => submission.getRoots(), issuer: (fp) => client.issuer(fp) }, leaf);
    return { entry, certificate, treeSize: head.treeSize, leafIndex: index, chain };
  }
}
