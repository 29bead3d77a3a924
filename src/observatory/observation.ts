import { createHash } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { reportError } from '../core/errors.js';
import type { Material } from '../core/material/material.js';
import type { VerificationReport } from '../core/verify/report.js';
import type { DiscoveryEra } from '../dns/discovery.js';
import { normalizeUserName } from '../dns/domain-name.js';
import { checkName, type CheckReport } from '../dns/name-check.js';
import type { ResolverSpec } from '../dns/resolver.js';
import { DEFAULT_IHLE_TYPE } from '../dns/rr-type.js';
import type { ObservationRecord, ObservedAnswer } from '../evidence/observation-record.js';
import type { ObservationSummary } from './incidents.js';

export interface VantagePoint {
  name: string;
  resolver: string;
  spec: ResolverSpec;
}

export interface ObservationContext {
  era: DiscoveryEra;
  timeoutMs: number;
  attempts: number;
  /** Verifies one token set as of `now` (the observation's time, never the wall clock). */
  verify: (material: Material[], era: 'jws' | 'cwt', now: Date) => Promise<VerificationReport>;
  /** The public JWKs `verify` trusts out of band; recorded in every observation so the replay uses the same. */
  trustedKeys?: readonly unknown[];
}

export interface Observation {
  record: ObservationRecord;
  summary: Omit<ObservationSummary, 'leafIndex'>;
}

type Rr = { type: string; name: string; data?: unknown };

function rdataText(data: unknown): string {
  if (Buffer.isBuffer(data)) return data.toString('hex');
  if (Array.isArray(data)) return data.map((d) => (Buffer.isBuffer(d) ? d.toString('hex') : Buffer.from(String(d)).toString('hex'))).join('.');
  return JSON.stringify(data ?? null);
}

/**
 * An order-independent digest of what a vantage point answered: every answer and additional record (owner, type,
 * RDATA; not TTLs, IDs or order) sorted and hashed. Two resolvers returning the same records in a different order
 * (RFC 1034 RRsets are sets) give the same digest; a different token set gives another.
 */
export function recordsDigest(wires: readonly Buffer[]): string {
  const lines = new Set<string>();
  for (const wire of wires) {
    let message: dnsPacket.Packet;
    try {
      message = dnsPacket.decode(wire);
    } catch {
      lines.add(`undecodable:${createHash('sha256').update(wire).digest('hex')}`);
      continue;
    }
    const rcode = (message as { rcode?: string }).rcode ?? 'NOERROR';
    lines.add(`rcode:${rcode}`);
    for (const rr of [...(message.answers ?? []), ...(message.additionals ?? [])] as unknown as Rr[]) {
      if (rr.type === 'OPT') continue;
      lines.add(`${rr.name.toLowerCase().replace(/\.$/, '')}|${rr.type}|${rdataText(rr.data)}`);
    }
  }
  return createHash('sha256').update([...lines].sort().join('\n')).digest('hex');
}

/** Reduces a check report to what the incident machine compares. */
export function summarize(report: CheckReport, vantagePoint: string, records: string): Omit<ObservationSummary, 'leafIndex'> {
  const covering = report.sets.find((s) => s.covered) ?? report.sets.find((s) => s.contestedCoveredBy) ?? report.sets[0];
  return {
    vantagePoint,
    status: report.status,
    level: report.level,
    records,
    endorsedBy: covering ? [...covering.endorsedBy].sort() : [],
    keys: covering?.emblem ? [...covering.emblem.chain] : [],
    expires: covering?.emblem?.expires ?? null,
  };
}

const STATUSES = new Set(['protected', 'indeterminate', 'contested', 'not-covered', 'expired', 'invalid', 'no-emblem', 'nxdomain', 'error']);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 256 && v.every((x) => typeof x === 'string');

/**
 * What the incident machine needs, recomputed from an evidence record (a record a queue worker returned): the
 * summary then follows from exactly the bytes that go into the evidence log. Throws on a record whose report does
 * not have the shape `emblem check` writes (records from Redis are input like any other).
 */
export function summaryFromRecord(record: ObservationRecord): Omit<ObservationSummary, 'leafIndex'> {
  const report = record.report as CheckReport;
  if (!report || typeof report !== 'object' || !STATUSES.has(String(report.status)) || !Array.isArray(report.sets) || report.sets.length > 256 || !Array.isArray(report.errors)) {
    throw new Error('the report is not an emblem check report');
  }
  if (report.level !== null && typeof report.level !== 'string') throw new Error('the report level is not a string');
  const summary = summarize(report, record.vantagePoint, report.status === 'error' ? '' : recordsDigest(record.answers.map((a) => Buffer.from(a.wire, 'base64'))));
  if (!isStrings(summary.endorsedBy) || !isStrings(summary.keys) || (summary.expires !== null && typeof summary.expires !== 'string')) throw new Error('the report\'s covering set is malformed');
  return summary;
}

/** An observation that could not be made (e.g. a queue job that failed or timed out): status "error" with a code. */
export function errorObservation(target: string, vantage: Pick<VantagePoint, 'name' | 'resolver'>, now: Date, code: string, message: string): Observation {
  const error = { code, message };
  const report: CheckReport = { target, status: 'error', level: null, sets: [], discovery: null, errors: [error as CheckReport['errors'][number]] };
  return {
    record: { v: 1, target, time: now.toISOString(), vantagePoint: vantage.name, resolver: vantage.resolver, answers: [], error, status: 'error', report },
    summary: summarize(report, vantage.name, ''),
  };
}

/**
 * One observation: the same discovery and verification as `emblem check`, through one vantage point, with every
 * raw DNS response kept for the evidence record. Never throws: a resolver that times out gives an observation with
 * status "error" and the error's code (not an incident by itself; see incidents.ts).
 */
export async function observeTarget(target: string, vantage: VantagePoint, now: Date, ctx: ObservationContext): Promise<Observation> {
  const answers: ObservedAnswer[] = [];
  const wires: Buffer[] = [];
  let report: CheckReport;
  try {
    const name = normalizeUserName(target);
    report = await checkName(
      name,
      {
        resolver: vantage.spec,
        era: ctx.era,
        ihleType: DEFAULT_IHLE_TYPE,
        timeoutMs: ctx.timeoutMs,
        attempts: ctx.attempts,
        onAnswer: (a) => {
          wires.push(a.wire);
          answers.push({ qname: a.qname, qtype: a.qtype, wire: a.wire.toString('base64') });
        },
      },
      (material, era) => ctx.verify(material, era, now),
    );
  } catch (err) {
    const e = reportError(err);
    report = { target, status: 'error', level: null, sets: [], discovery: null, errors: [e] };
  }
  const error = report.status === 'error' ? report.errors[0] : undefined;
  const record: ObservationRecord = {
    v: 1,
    target,
    time: now.toISOString(),
    vantagePoint: vantage.name,
    resolver: vantage.resolver,
    answers,
    ...(error ? { error: { code: String(error.code), message: error.message } } : {}),
    status: report.status === 'protected' || report.status === 'indeterminate' ? (report.level ?? report.status) : report.status,
    report,
    ...(ctx.trustedKeys?.length ? { trustedKeys: [...ctx.trustedKeys] } : {}),
  };
  return { record, summary: summarize(report, vantage.name, report.status === 'error' ? '' : recordsDigest(wires)) };
}
