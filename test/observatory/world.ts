/**
 * A small marked world for observe tests: one zone (obs.test) whose names carry copies of a few signed token sets,
 * written in several versions (steady, with injections, and the second vantage point's variant). Every name has
 * an A record pointing at 127.0.0.2, where the covertness tests listen for connections.
 */
import { writeFileSync } from 'node:fs';
import type { Material } from '../../src/core/material/material.js';
import { formatTxtRdata } from '../../src/dns/character-strings.js';
import { emblemRecords } from '../../src/dns/emblem-records.js';
import { buildEmblemZone } from '../../src/dns/emblem-zone.js';
import { formatGenericRdata } from '../../src/dns/generic-rdata.js';
import { DEFAULT_IHLE_TYPE, RRType } from '../../src/dns/rr-type.js';
import { renderZoneFile } from '../../src/dns/zone-file.js';
import { DAY, NOW, jwsOrgChain, keyItem, makeKeys, validity, type OrgChainKeys } from '../helpers/tokens.js';

export const ORIGIN = 'obs.test';
export const T0 = NOW;
export const TARGET_ADDRESS = '127.0.0.2';

function rdataLines(material: Material[]): string[] {
  const { records } = emblemRecords(material.map((m) => ({ material: m, identifier: null })), 'template.test', { era: 'jws', ttl: 60, ihleType: DEFAULT_IHLE_TYPE });
  return records.map((r) => (r.type === RRType.TXT ? `TXT ${formatTxtRdata(r.rdata)}` : `TYPE${r.type} ${formatGenericRdata(r.rdata)}`));
}

export interface ObserveWorld {
  /** Trusted key material (the authority's key): endorsed emblems verify at ENDORSED-TRUSTED. */
  trusted: Material[];
  authorityJwk: unknown;
  steady: string[];
  /** Names and what happens to them in the injected version. */
  names: { ok: string[]; removed: string; expiring: string; resigned: string; inconsistent: string };
  /** Renders a zone: 'steady' (all good), 'injected' (removed, re-signed), 'injected-b' (as injected, plus a different token set for the inconsistent name). */
  write(file: string, version: 'steady' | 'injected' | 'injected-b', serial: number): void;
}

/**
 * `base` (default the tests' fixed NOW) is the time the tokens are valid around; `expiresAfterSeconds` is when the
 * expiring name's emblem lapses after `base` (default 45 s: window 4 of 10 s windows sees it expired).
 */
export async function buildObserveWorld(okCount = 5, base: Date = NOW, expiresAfterSeconds = 45): Promise<ObserveWorld> {
  const [emblem, root, authority, emblem2, root2] = await makeKeys(5);
  const keys: OrgChainKeys = { emblem: emblem!, root: root!, authority: authority! };
  const assets = [`*.${ORIGIN}`];
  const b = Math.floor(base.getTime() / 1000);
  const v = validity(30 * DAY, b - DAY);
  const chain = { root: v, external: v };
  const endorsed = rdataLines(await jwsOrgChain(keys, { emblem: { assets, ...v }, ...chain }));
  // The same chain, re-signed a minute later: same level, different records (what a lagging secondary might serve).
  const endorsedLater = rdataLines(await jwsOrgChain(keys, { emblem: { assets, ...validity(30 * DAY, b - DAY + 60) }, ...chain }));
  const expiring = rdataLines(await jwsOrgChain(keys, { emblem: { assets, ...validity(DAY + expiresAfterSeconds, b - DAY) }, ...chain }));
  // Re-signed with a new organisation key pair that no authority endorsed: ORGANIZATIONAL, a level drop.
  const unendorsed = rdataLines(await jwsOrgChain({ emblem: emblem2!, root: root2!, authority: authority! }, { emblem: { assets, ...v }, root: v }));
  const ok = Array.from({ length: okCount }, (_, i) => `ok${i}.${ORIGIN}`);
  const names = { ok, removed: `rm.${ORIGIN}`, expiring: `exp.${ORIGIN}`, resigned: `lvl.${ORIGIN}`, inconsistent: `inc.${ORIGIN}` };
  const steady = [...ok, names.removed, names.expiring, names.resigned, names.inconsistent];
  return {
    trusted: [keyItem(authority!)],
    authorityJwk: authority!.publicKey.jwk,
    steady,
    names,
    write(file, version, serial) {
      const { zone } = buildEmblemZone({ origin: ORIGIN, owners: [], serial });
      const lines: string[] = [];
      const add = (name: string, rdata: string[]) => {
        lines.push(`${name}. 60 IN A ${TARGET_ADDRESS}`);
        for (const r of rdata) lines.push(`${name}. 60 IN ${r}`);
      };
      for (const n of ok) add(n, endorsed);
      add(names.expiring, expiring);
      add(names.removed, version === 'steady' ? endorsed : []);
      add(names.resigned, version === 'steady' ? endorsed : unendorsed);
      add(names.inconsistent, version === 'injected-b' ? endorsedLater : endorsed);
      writeFileSync(file, `${renderZoneFile(zone)}${lines.join('\n')}\n`);
    },
  };
}
