/**
 * CT watch (as certspotter does for TLS): follow CT logs from a stored position, verify each new tree head against
 * the last one (consistency proof), and look at every new entry for certificates naming a watched organisation's
 * `adem-configuration` names. A certificate not in the organisation's known list is CT_UNEXPECTED_CERTIFICATE (someone
 * may be binding a root key to the organisation's name); a log that cannot prove consistency is CT_LOG_INCONSISTENT.
 *
 * Unlike DNS conditions these open at once: a certificate in a log, or a log that forked, is a fact, not a flapping
 * measurement. Both stay open until an operator closes them (the service never closes them by itself).
 */
import { createHash } from 'node:crypto';
import { verifyConsistency } from '../core/merkle/consistency.js';
import { fromBase64, toBase64 } from '../ct/bytes.js';
import { summarizeCertificate, summarizeTbs } from '../ct/certificate.js';
import { parseMerkleTreeLeaf } from '../ct/merkle-tree-leaf.js';
import { Rfc6962Client } from '../ct/rfc6962-client.js';
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
  for (const logConfig of o.config.logs) {
    if (logConfig.kind !== 'rfc6962' || !logConfig.publicKey) {
      o.log?.({ event: 'ct-watch-skipped', log: logConfig.url, reason: 'only RFC 6962 logs with a publicKey are followed so far' });
      continue;
    }
    const key = fromBase64(logConfig.publicKey);
    if (!key) {
      o.log?.({ event: 'ct-watch-skipped', log: logConfig.url, reason: 'publicKey is not base64' });
      continue;
    }
    const url = logConfig.url.endsWith('/') ? logConfig.url : `${logConfig.url}/`;
    const client = new Rfc6962Client({ url, key, description: url }, o.http);
    const cursorKey = `ct:${url}`;
    try {
      const stored = await o.store.getCursor(cursorKey);
      const cursor: Cursor | null = stored ? (JSON.parse(stored) as Cursor) : null;
      const sth = await client.getSth(); // signature verified by the client
      const root = toBase64(sth.rootHash);
      if (cursor) {
        const oldRoot = fromBase64(cursor.rootHash) ?? new Uint8Array();
        let consistent: boolean;
        if (sth.treeSize < cursor.treeSize) consistent = false;
        else if (sth.treeSize === cursor.treeSize) consistent = root === cursor.rootHash;
        else consistent = cursor.treeSize === 0 || verifyConsistency(cursor.treeSize, sth.treeSize, oldRoot, sth.rootHash, await client.getConsistency(cursor.treeSize, sth.treeSize));
        if (!consistent) {
          events.push({
            kind: 'opened', type: 'CT_LOG_INCONSISTENT', target: url, severity: INCIDENT_SEVERITY.CT_LOG_INCONSISTENT, time, observations: [],
            detail: `tree head ${sth.treeSize}/${root} is not consistent with the verified ${cursor.treeSize}/${cursor.rootHash}`,
          });
          continue; // the cursor keeps the last verified head: the evidence of the fork
        }
      }
      let next = cursor?.next ?? 0;
      const end = Math.min(sth.treeSize, next + ObserveLimits.maxCtEntriesPerRound);
      for (; next < end; next++) {
        const entry = await client.getEntry(next);
        let names: string[];
        let fingerprint: string;
        try {
          const leaf = parseMerkleTreeLeaf(entry.leafInput);
          const summary = leaf.entryType === 'x509' ? summarizeCertificate(leaf.certificate) : summarizeTbs(leaf.certificate);
          names = [...summary.dnsNames, ...(summary.commonName ? [summary.commonName] : [])];
          // x509 entries: SHA-256 of the certificate; precertificates: of the TBSCertificate as logged.
          fingerprint = createHash('sha256').update(leaf.certificate).digest('hex');
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
      await o.store.setCursor(cursorKey, JSON.stringify({ treeSize: sth.treeSize, rootHash: root, next } satisfies Cursor));
      o.log?.({ event: 'ct-watch', log: url, treeSize: sth.treeSize, next });
    } catch (err) {
      o.log?.({ event: 'ct-watch-failed', log: url, error: reportError(err) });
    }
  }
  return events;
}
