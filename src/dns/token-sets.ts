import { reportError, type ReportedError } from '../core/errors.js';
import type { Material } from '../core/material/material.js';
import { joinLegacyParts, parseAdemTxtValue, type AdemTxtValue } from '../core/material/txt.js';
import { classifyIhleItem } from './cbor-item.js';
import { DnsLimits } from './limits.js';

/** One token set found at a name: what the core engine verifies as a unit. */
export interface DiscoveredTokenSet {
  era: 'jws' | 'cwt';
  /** DNS-01 identifier of the set; null when the records carry none (or for IHLE, which has no identifiers). */
  identifier: string | null;
  material: Material[];
}

export interface DecodedEmblemRecords {
  sets: DiscoveredTokenSet[];
  /** TXT records at the name that are not ADEM (SPF, verification strings...). */
  otherTxt: number;
  /** ADEM records that could not be read (bad JSON key, malformed CBOR); reported, not fatal. */
  errors: ReportedError[];
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Groups DNS-01 TXT values and DNS-02 IHLE RDATA into token sets (SPEC-NOTES §5.6): TXT records with an
 * identifier form one set per identifier, records without one join every set; all IHLE records at a name are
 * one set. Everything here is attacker-controlled, so counts are bounded and bad records are skipped.
 */
export function decodeEmblemRecords(txtValues: Uint8Array[], ihleRdatas: Uint8Array[], source = 'dns'): DecodedEmblemRecords {
  const errors: ReportedError[] = [];
  let otherTxt = 0;
  const values: AdemTxtValue[] = [];
  for (const raw of txtValues) {
    let text: string;
    try {
      text = textDecoder.decode(raw);
    } catch {
      otherTxt++;
      continue;
    }
    const v = parseAdemTxtValue(text);
    if (!v) {
      otherTxt++;
      continue;
    }
    if (values.length >= DnsLimits.maxEmblemRecordsPerName) {
      errors.push({ code: 'LIMIT_EXCEEDED', message: `more than ${DnsLimits.maxEmblemRecordsPerName} ADEM records; rest ignored` });
      break;
    }
    values.push(v);
  }

  const shared: Material[] = [];
  const byIdentifier = new Map<string, Material[]>();
  for (const v of joinLegacyParts(values)) {
    let m: Material;
    if (v.type === 'token') m = { kind: 'jws', text: v.value, source };
    else {
      try {
        m = { kind: 'jwk', jwk: JSON.parse(v.value) as unknown, source };
      } catch {
        errors.push({ code: 'KEY_INVALID', message: 'adem-key record is not JSON' });
        continue;
      }
    }
    if (v.identifier === null) {
      shared.push(m);
      continue;
    }
    let group = byIdentifier.get(v.identifier);
    if (!group) {
      if (byIdentifier.size >= DnsLimits.maxTokenSetsPerName) {
        errors.push({ code: 'LIMIT_EXCEEDED', message: `more than ${DnsLimits.maxTokenSetsPerName} token sets; rest ignored` });
        continue;
      }
      group = [];
      byIdentifier.set(v.identifier, group);
    }
    group.push(m);
  }

  const sets: DiscoveredTokenSet[] = [];
  if (byIdentifier.size === 0) {
    if (shared.length > 0) sets.push({ era: 'jws', identifier: null, material: shared });
  } else {
    for (const [identifier, material] of [...byIdentifier].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      sets.push({ era: 'jws', identifier, material: [...material, ...shared] });
    }
  }

  const cbor: Material[] = [];
  for (const rdata of ihleRdatas.slice(0, DnsLimits.maxEmblemRecordsPerName)) {
    try {
      const kind = classifyIhleItem(rdata);
      cbor.push(kind === 'cwt' ? { kind: 'cwt', bytes: rdata, source } : { kind: 'cose-key', bytes: rdata, source });
    } catch (err) {
      errors.push(reportError(err));
    }
  }
  if (cbor.length > 0) sets.push({ era: 'cwt', identifier: null, material: cbor });
  return { sets, otherTxt, errors };
}
