import * as dnsPacket from 'dns-packet';
import type { Material } from '../../src/core/material/material.js';
import { emblemTxtValue } from '../../src/dns/emblem-records.js';
import type { ObservationRecord } from '../../src/evidence/observation-record.js';
import { jwsOrgChain, makeKeys } from '../helpers/tokens.js';

/** A DNS response message for `qname` TXT holding `values` (each split into 255-byte character-strings). */
export function txtResponse(qname: string, values: string[], rcode: 'NOERROR' | 'NXDOMAIN' = 'NOERROR'): Buffer {
  const answers = values.map((v) => {
    const bytes = Buffer.from(v, 'utf8');
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 255) chunks.push(bytes.subarray(i, i + 255));
    return { type: 'TXT' as const, name: qname, ttl: 300, class: 'IN' as const, data: chunks };
  });
  return dnsPacket.encode({
    type: 'response',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (rcode === 'NXDOMAIN' ? 3 : 0),
    questions: [{ type: 'TXT', name: qname, class: 'IN' }],
    answers,
  } as dnsPacket.Packet);
}

/** The TXT values of a deployed-shape JWS chain (emblem, root endorsement, authority endorsement, keys) for `asset`. */
export async function emblemTxtValues(asset: string): Promise<string[]> {
  const [emblem, root, authority] = await makeKeys(3);
  const material: Material[] = await jwsOrgChain({ emblem: emblem!, root: root!, authority: authority! }, { emblem: { assets: [asset] }, external: {} });
  return material.map((m) => emblemTxtValue({ material: m, identifier: null }));
}

export function observation(target: string, time: string, vantagePoint: string, values: string[] | null, status: string): ObservationRecord {
  const qname = `${target}.`;
  return {
    v: 1,
    target,
    time,
    vantagePoint,
    resolver: vantagePoint === 'vp1' ? '127.0.0.1:5301' : '127.0.0.1:5302',
    answers: [{ qname, qtype: 'TXT', wire: txtResponse(qname, values ?? []).toString('base64') }],
    status,
    report: { target, status },
  };
}

export const encodeRecord = (r: ObservationRecord) => new TextEncoder().encode(JSON.stringify(r));
