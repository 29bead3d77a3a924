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
