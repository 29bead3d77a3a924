/**
 * CT watch (as certspotter does for TLS): follow CT logs (RFC 6962 and static-ct) from a stored position, verify each
 * new tree head against the last one (consistency proof), prove every new entry is in the verified tree (an entry the
 * log cannot prove is CT_LOG_INCONSISTENT, never looked at as logged), and look at each for certificates naming a watched organisation's
 * `adem-configuration` names. A certificate not in the organisation's known list is CT_UNEXPECTED_CERTIFICATE (someone
 * may be binding a root key to the organisation's name); a log that cannot prove consistency is CT_LOG_INCONSISTENT.
 *
 * Unlike DNS conditions these open at once: a certificate in a log, or a log that forked, is a fact, not a flapping
 * measurement. Both stay open until an operator closes them (the service never closes them by itself).
 */
import { createHash } from 'node:crypto';
import { hashLeaf } from '../core/merkle/hash.js';
import { verifyConsistency } from '../core/merkle/consistency.js';
import { verifyInclusion } from '../core/merkle/inclusion.js';
import { fromBase64, toBase64 } from '../ct/bytes.js';
import { summarizeCertificate, summarizeTbs } from '../ct/certificate.js';
import { ctError, CtErrorCodes } from '../ct/errors.js';
import type { ListedLog } from '../ct/log-list.js';
import { parseMerkleTreeLeaf, type TimestampedEntry } from '../ct/merkle-tree-leaf.js';
import { Rfc6962Client } from '../ct/rfc6962-client.js';
import { StaticCtClient } from '../ct/static-ct-client.js';
import type { TreeHead } from '../ct/tree-head.js';
import type { HttpClient } from '../ct/http.js';
import { reportError } from '../core/errors.js';
import type { CtWatchConfig } from './config.js';
import { INCIDENT_SEVERITY, type IncidentEvent } from './incidents.js';
import { ObserveLimits } from './limits.js';
import type { ObservatoryStore } from './store.js';

interface Cursor {
  treeSize: number;
  rootHash: string;
  /** Next entry index to read (<= treeSize). */
  next: number;
}

/**
 * One log as the watch follows it, whatever its API: a verified tree head, a consistency proof, and entries each
 * proven to be in the verified tree (a log that serves an entry it did not commit to must not get it accepted).
 */
interface FollowedLog {
  /** For messages, incidents and the cursor key. */
  url: string;
  cursorKey: string;
  head(): Promise<TreeHead>;
  consistency(oldSize: number, newSize: number): Promise<Uint8Array[]>;
  /** Entry `index` of the tree of `head`, proven included; throws CT_AUDIT_PATH_INVALID / CT_LEAF_NOT_FOUND /
   *  CT_TILE_MISMATCH when the log cannot prove it, CT_LOG_UNREACHABLE when it could not be asked. */
  provenEntry(index: number, head: TreeHead): Promise<TimestampedEntry>;
}

/** Error codes that prove the log served something its signed tree does not contain (not "could not check"). */
const PROVEN_LIES: ReadonlySet<string> = new Set([CtErrorCodes.CT_AUDIT_PATH_INVALID, CtErrorCodes.CT_LEAF_NOT_FOUND, CtErrorCodes.CT_TILE_MISMATCH]);

/**
 * RFC 6962: get-sth / get-sth-consistency / get-entries. get-entries is not authenticated, so each entry's leaf
 * hash is proven in the verified tree with get-proof-by-hash (one more request per entry; the round is bounded by
 * ObserveLimits.maxCtEntriesPerRound). A duplicate entry proves at its first index: still in the tree, accepted.
 */
function rfc6962Log(url: string, key: Uint8Array, http?: HttpClient): FollowedLog {
  const client = new Rfc6962Client({ url, key, description: url }, http);
  return {
    url,
    cursorKey: `ct:${url}`,
    head: () => client.getSth(),
    consistency: (a, b) => client.getConsistency(a, b),
    async provenEntry(index, head) {
      const raw = await client.getEntry(index);
      const leafHash = hashLeaf(raw.leafInput);
      const proof = await client.getProofByHash(leafHash, head.treeSize);
      if (!verifyInclusion(proof.leafIndex, head.treeSize, leafHash, proof.auditPath, head.rootHash)) {
        throw ctError(CtErrorCodes.CT_AUDIT_PATH_INVALID, `${url}: the audit path does not prove entry ${index} in the tree of size ${head.treeSize}`);
      }
      return parseMerkleTreeLeaf(raw.leafInput);
    },
  };
}

/** static-ct (C2SP): checkpoint, tiles; every entry's leaf hash is read from hash tiles that chain to the checkpoint. */
function staticLog(monitoringUrl: string, submissionUrl: string, key: Uint8Array, logId: Uint8Array, http?: HttpClient): FollowedLog {
  const client = new StaticCtClient({ monitoringUrl, submissionUrl, key, logId, description: monitoringUrl }, http);
  return {
    url: monitoringUrl,
    cursorKey: `ct:static:${monitoringUrl}`,
    head: () => client.getCheckpoint(),
    consistency: (a, b) => client.consistencyProof(a, b),
    provenEntry: async (index, head) => (await client.provenEntry(index, head)).leaf.entry,
  };
}

const slash = (u: string) => (u.endsWith('/') ? u : `${u}/`);

/** The logs to follow: the config's, then those of the log list (each by its list entry's kind). */
function followedLogs(o: CtWatchOptions): FollowedLog[] {
  const out: FollowedLog[] = [];
  for (const l of o.config.logs) {
    const key = l.publicKey ? fromBase64(l.publicKey) : null;
    if (!key || key.length === 0) {
      o.log?.({ event: 'ct-watch-skipped', log: l.url, reason: 'a followed log needs its publicKey (base64 DER SPKI)' });
      continue;
    }
    const url = slash(l.url);
    // A static-ct log's ID is the SHA-256 of its key (as for RFC 6962); its checkpoint origin comes from the URL.
    out.push(l.kind === 'rfc6962' ? rfc6962Log(url, key, o.http) : staticLog(url, url, key, createHash('sha256').update(key).digest(), o.http));
  }
  for (const l of o.listed ?? []) {
    if (l.kind === 'rfc6962' && l.url) out.push(rfc6962Log(slash(l.url), l.key, o.http));
    else if (l.kind === 'tiled' && l.monitoringUrl && l.submissionUrl) out.push(staticLog(slash(l.monitoringUrl), slash(l.submissionUrl), l.key, l.logId, o.http));
  }
  return out;
}

/** Whether `name` is an organisation's adem-configuration name (`adem-configuration.ORG` or a label under it). */
export function watchedOrganization(name: string, organizations: readonly string[]): string | null {
  const n = name.toLowerCase().replace(/\.$/, '');
  for (const org of organizations) {
    const base = `adem-configuration.${org}`;
    if (n === base || n.endsWith(`.${base}`)) return org;
  }
  return null;
}

export interface CtWatchOptions {
  config: CtWatchConfig;
  /** Usable logs of the config's log list (followed as their entries say: RFC 6962 or tiled). */
  listed?: readonly ListedLog[];
  store: ObservatoryStore;
  http?: HttpClient;
  log?: (line: Record<string, unknown>) => void;
}

/**
 * One round over every configured log; returns the incident events to record. A log that cannot be reached is
 * logged and skipped (could not check is not an incident); its cursor stays where it was.
 */
export async function ctWatchRound(o: CtWatchOptions, now: Date): Promise<IncidentEvent[]> {
  const events: IncidentEvent[] = [];
  const time = now.toISOString();
  const orgs = o.config.organizations.map((x) => x.name);
  const known = new Map(o.config.organizations.map((x) => [x.name, new Set(x.known)]));
  for (const log of followedLogs(o)) {
    const url = log.url;
    const inconsistent = (detail: string) =>
      events.push({ kind: 'opened', type: 'CT_LOG_INCONSISTENT', target: url, severity: INCIDENT_SEVERITY.CT_LOG_INCONSISTENT, time, observations: [], detail });
    try {
      const stored = await o.store.getCursor(log.cursorKey);
      const cursor: Cursor | null = stored ? (JSON.parse(stored) as Cursor) : null;
      const head = await log.head(); // signature verified by the client
      const root = toBase64(head.rootHash);
      if (cursor) {
        const oldRoot = fromBase64(cursor.rootHash) ?? new Uint8Array();
        let consistent: boolean;
        if (head.treeSize < cursor.treeSize) consistent = false;
        else if (head.treeSize === cursor.treeSize) consistent = root === cursor.rootHash;
        else consistent = cursor.treeSize === 0 || verifyConsistency(cursor.treeSize, head.treeSize, oldRoot, head.rootHash, await log.consistency(cursor.treeSize, head.treeSize));
        if (!consistent) {
          inconsistent(`tree head ${head.treeSize}/${root} is not consistent with the verified ${cursor.treeSize}/${cursor.rootHash}`);
          continue; // the cursor keeps the last verified head: the evidence of the fork
        }
      }
      let next = cursor?.next ?? 0;
      const end = Math.min(head.treeSize, next + ObserveLimits.maxCtEntriesPerRound);
      for (; next < end; next++) {
        let entry: TimestampedEntry;
        try {
          entry = await log.provenEntry(next, head);
        } catch (err) {
          const e = reportError(err);
          if (!PROVEN_LIES.has(String(e.code))) throw err;
          // The log served an entry its signed tree does not hold: never look at it as if it were logged. The cursor
          // stays before it (the next round asks again; the open incident is not repeated).
          inconsistent(`entry ${next} is not in the verified tree ${head.treeSize}/${root} [${e.code}]: ${e.message}`);
          break;
        }
        let names: string[];
        let fingerprint: string;
        try {
          const summary = entry.entryType === 'x509' ? summarizeCertificate(entry.certificate) : summarizeTbs(entry.certificate);
          names = [...summary.dnsNames, ...(summary.commonName ? [summary.commonName] : [])];
          // x509 entries: SHA-256 of the certificate; precertificates: of the TBSCertificate as logged.
          fingerprint = createHash('sha256').update(entry.certificate).digest('hex');
        } catch (err) {
          o.log?.({ event: 'ct-entry-unreadable', log: url, index: next, error: reportError(err) });
          continue;
        }
        const hits = new Set(names.map((n) => watchedOrganization(n, orgs)).filter((x): x is string => x !== null));
        for (const org of hits) {
          if (known.get(org)!.has(fingerprint)) continue;
          events.push({
            kind: 'opened', type: 'CT_UNEXPECTED_CERTIFICATE', target: org, severity: INCIDENT_SEVERITY.CT_UNEXPECTED_CERTIFICATE, time, observations: [],
            detail: `${url} entry ${next}: certificate ${fingerprint} for ${names.join(', ')} is not in the known list`,
          });
        }
      }
      await o.store.setCursor(log.cursorKey, JSON.stringify({ treeSize: head.treeSize, rootHash: root, next } satisfies Cursor));
      o.log?.({ event: 'ct-watch', log: url, treeSize: head.treeSize, next });
    } catch (err) {
      o.log?.({ event: 'ct-watch-failed', log: url, error: reportError(err) });
    }
  }
  return events;
}
