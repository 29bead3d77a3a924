import * as dnsPacket from 'dns-packet';
import { reportError, type ReportedError } from '../core/errors.js';
import { skipCommitmentCheck } from '../core/verify/commitment.js';
import type { Material } from '../core/material/material.js';
import { verifyMaterial } from '../core/verify/index.js';
import { asciiLower } from '../dns/domain-name.js';
import { classifyEmblemRecords, type CheckReport } from '../dns/name-check.js';
import { DEFAULT_IHLE_TYPE, parseTypeName } from '../dns/rr-type.js';
import { decodeEmblemRecords } from '../dns/token-sets.js';
import { evidenceError, EvidenceErrorCodes } from './errors.js';
import { EvidenceLimits } from './limits.js';
import { fromBase64Strict } from './base64.js';
import type { ObservationRecord, ObservedAnswer } from './observation-record.js';

/**
 * The status string an observation records: the verification level when a valid emblem names the target
 * (`protected`, or `indeterminate` when only a CT commitment could not be checked), else the check status
 * ("no-emblem", "nxdomain", "expired", ...). The observe service records this, and `evidence verify` recomputes it.
 */
export function observationStatus(report: Pick<CheckReport, 'status' | 'level'>): string {
  if ((report.status === 'protected' || report.status === 'indeterminate') && report.level) return report.level;
  return report.status;
}

function bad(why: string): never {
  throw evidenceError(EvidenceErrorCodes.EVIDENCE_ENTRY_MALFORMED, `observation record: ${why}`);
}

const isStr = (v: unknown, max = 4096): v is string => typeof v === 'string' && v.length <= max;

/** Parses one log entry (hostile: it came from a bundle or a mirror) as an ObservationRecord. */
export function parseObservationRecord(bytes: Uint8Array): ObservationRecord {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    bad('not UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('not an object');
  const r = value as Record<string, unknown>;
  if (r.v !== 1) bad('unknown version');
  if (!isStr(r.target, 300) || r.target === '') bad('bad target');
  if (!isStr(r.time, 64) || !/^\d{4}-\d{2}-\d{2}T/.test(r.time) || Number.isNaN(Date.parse(r.time))) bad('bad time');
  if (!isStr(r.vantagePoint, 256) || !isStr(r.resolver, 2048) || !isStr(r.status, 64)) bad('bad vantagePoint, resolver or status');
  if (!Array.isArray(r.answers) || r.answers.length > EvidenceLimits.maxAnswersPerEntry) bad('bad answers');
  for (const a of r.answers as unknown[]) {
    const x = a as Record<string, unknown>;
    if (typeof a !== 'object' || a === null || !isStr(x.qname, 300) || !isStr(x.qtype, 32) || !isStr(x.wire, 100_000)) bad('bad answer');
  }
  if (r.trustedKeys !== undefined) {
    if (!Array.isArray(r.trustedKeys) || r.trustedKeys.length > EvidenceLimits.maxTrustedKeysPerEntry) bad('bad trustedKeys');
    for (const k of r.trustedKeys as unknown[]) {
      if (typeof k !== 'object' || k === null || Array.isArray(k) || JSON.stringify(k).length > EvidenceLimits.maxTrustedKeyBytes) bad('bad trusted key');
    }
  }
  if (r.error !== undefined) {
    const e = r.error as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || !isStr(e.code, 64) || !isStr(e.message, 4096)) bad('bad error');
  }
  return value as ObservationRecord;
}

type Answer = { type: string; name: string; class?: string; data?: unknown };

const typeCode = (t: string): number => {
  const m = /^UNKNOWN_(\d+)$/.exec(t);
  return m ? Number(m[1]) : (parseTypeName(t) ?? -1);
};
const owner = (name: string) => asciiLower(name.replace(/\.$/, ''));

/** Owner names reached from `name` through CNAMEs in the answer (bounded: 8 links), as discovery does. */
function aliasChain(message: dnsPacket.Packet, name: string): Set<string> {
  const names = new Set([owner(name)]);
  for (let i = 0; i < 8; i++) {
    let grew = false;
    for (const a of (message.answers ?? []) as unknown as Answer[]) {
      if (a.type === 'CNAME' && names.has(owner(a.name)) && typeof a.data === 'string' && !names.has(owner(a.data))) {
        names.add(owner(a.data));
        grew = true;
      }
    }
    if (!grew) break;
  }
  return names;
}

export interface ReplayOutcome {
  /** The status recomputed from the raw answers (null when the observation recorded an error instead). */
  status: string | null;
  report: CheckReport | null;
  errors: ReportedError[];
}

/**
 * Re-runs the check of one observation offline: decodes the raw DNS answers it recorded, groups the emblem
 * records into token sets and verifies them at the recorded time. CT commitments cannot be checked offline, so
 * they are skipped (and reported as skipped); everything else is the same code path as `emblem check`. The
 * trusted keys are exactly those the record says the observer pinned (none when it names none).
 */
export async function replayObservation(record: ObservationRecord, ihleType = DEFAULT_IHLE_TYPE): Promise<ReplayOutcome> {
  if (record.error) return { status: null, report: null, errors: [] };
  const now = new Date(record.time);
  const txtValues: Buffer[] = [];
  const ihle = new Map<string, Buffer>();
  const addresses: string[] = [];
  let nxdomain = false;
  let failed: string | null = null;
  for (const a of record.answers as ObservedAnswer[]) {
    const wire = fromBase64Strict(a.wire, 65_535);
    if (!wire) throw evidenceError(EvidenceErrorCodes.EVIDENCE_ANSWER_MALFORMED, `answer ${a.qname} ${a.qtype}: wire is not base64`);
    let message: dnsPacket.Packet;
    try {
      message = dnsPacket.decode(Buffer.from(wire));
    } catch (err) {
      throw evidenceError(EvidenceErrorCodes.EVIDENCE_ANSWER_MALFORMED, `answer ${a.qname} ${a.qtype}: not a DNS message (${(err as Error).message})`);
    }
    if (message.type !== 'response') throw evidenceError(EvidenceErrorCodes.EVIDENCE_ANSWER_MALFORMED, `answer ${a.qname} ${a.qtype}: not a response`);
    const rcode = (message as { rcode?: string }).rcode ?? 'NOERROR';
    if (rcode === 'NXDOMAIN') nxdomain = true;
    else if (rcode !== 'NOERROR') failed = rcode;
    const owners = aliasChain(message, a.qname);
    const own = (section: dnsPacket.Answer[] | undefined, type: number) =>
      ((section ?? []) as unknown as Answer[]).filter((r) => typeCode(r.type) === type && (r.class === 'IN' || r.class === undefined) && owners.has(owner(r.name)));
    for (const r of own(message.answers, 16)) {
      const strings = Array.isArray(r.data) ? (r.data as unknown[]) : [];
      txtValues.push(Buffer.concat(strings.map((s) => (Buffer.isBuffer(s) ? s : Buffer.from(String(s))))));
    }
    for (const r of [...own(message.answers, ihleType), ...own(message.additionals, ihleType)]) {
      if (Buffer.isBuffer(r.data)) ihle.set(r.data.toString('hex'), r.data);
    }
    for (const r of [...own(message.answers, 1), ...own(message.answers, 28)]) if (typeof r.data === 'string') addresses.push(r.data);
  }
  let report: CheckReport;
  const target = record.target;
  if (failed) report = { target, status: 'error', level: null, sets: [], discovery: null, errors: [{ code: 'DNS_RESOLVER_FAILED', message: `answered ${failed}` }] };
  else if (nxdomain) report = { target, status: 'nxdomain', level: null, sets: [], discovery: null, errors: [] };
  else {
    const decoded = decodeEmblemRecords(txtValues, [...ihle.values()], `dns:${target}`);
    const trustedKeys: Material[] = (record.trustedKeys ?? []).map((jwk, i) => ({ kind: 'jwk', jwk, source: `observation record trustedKeys[${i}]` }));
    try {
      report = await classifyEmblemRecords(
        target,
        decoded,
        (material) => verifyMaterial(material, { now, trustedKeys, commitments: skipCommitmentCheck }),
        async () => addresses,
        null,
      );
    } catch (err) {
      return { status: 'error', report: null, errors: [reportError(err)] };
    }
  }
  return { status: observationStatus(report), report, errors: [] };
}
