/**
 * Builds a large scan test world cheaply: a handful of signed token sets (templates) copied to many names, one zone
 * file per category, an input list in shuffled order, the per-name expectation, and the same world as ZDNS lines.
 * Signing 100,000 tokens would take minutes; copying records is instant, and every name still carries its own records.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Material } from '../../src/core/material/material.js';
import { skipCommitmentCheck } from '../../src/core/verify/commitment.js';
import { verifyMaterial } from '../../src/core/verify/index.js';
import { RESULT_ORDER, type ResultLevel } from '../../src/core/verify/report.js';
import { formatTxtRdata, joinTxtRdata } from '../../src/dns/character-strings.js';
import { emblemRecords } from '../../src/dns/emblem-records.js';
import { buildEmblemZone } from '../../src/dns/emblem-zone.js';
import { formatGenericRdata } from '../../src/dns/generic-rdata.js';
import { DEFAULT_IHLE_TYPE, RRType } from '../../src/dns/rr-type.js';
import { renderZoneFile } from '../../src/dns/zone-file.js';
import { DAY, NOW, NOW_S, cwtOrgChain, jwsOrgChain, makeKeys, validity, type OrgChainKeys } from '../helpers/tokens.js';

export const SCAN_AT = NOW.toISOString();

export type Category = 'pj' | 'pc' | 'ex' | 'inv' | 'nc' | 'ne' | 'nx';

export interface Expectation {
  status: string;
  level: string | null;
}

/** Share of each category in the world (sums to 1). Most names carry no emblem, as on the real Internet. */
export const DEFAULT_MIX: Record<Category, number> = { pj: 0.05, pc: 0.05, ex: 0.03, inv: 0.03, nc: 0.04, ne: 0.5, nx: 0.3 };

interface Template {
  /** Presentation RDATA lines ("TXT ..." / "TYPE65400 \\# ...") copied to every name of the category. */
  rdata: string[];
  /** The same records as ZDNS answers. */
  zdns: Array<{ type: string; answer: string }>;
  expect: Expectation;
}

function strongest(levels: ResultLevel[]): ResultLevel | null {
  let best: ResultLevel | null = null;
  for (const r of levels) if (best === null || RESULT_ORDER.indexOf(r) > RESULT_ORDER.indexOf(best)) best = r;
  return best;
}

async function template(material: Material[], status: string): Promise<Template> {
  const { records } = emblemRecords(
    material.map((m) => ({ material: m, identifier: null })),
    'template.test',
    { era: 'both', ttl: 3600, ihleType: DEFAULT_IHLE_TYPE },
  );
  const rdata: string[] = [];
  const zdns: Template['zdns'] = [];
  for (const r of records) {
    if (r.type === RRType.TXT) {
      rdata.push(`TXT ${formatTxtRdata(r.rdata)}`);
      zdns.push({ type: 'TXT', answer: joinTxtRdata(r.rdata).toString('utf8') });
    } else {
      rdata.push(`TYPE${r.type} ${formatGenericRdata(r.rdata)}`);
      zdns.push({ type: `TYPE${r.type}`, answer: `\\# ${r.rdata.length} ${r.rdata.toString('hex')}` });
    }
  }
  let level: string | null = null;
  if (status === 'protected' || status === 'not-covered') {
    const report = await verifyMaterial(material, { now: NOW, commitments: skipCommitmentCheck });
    level = strongest(report.result);
  }
  return { rdata, zdns, expect: { status, level } };
}

/** Breaks the emblem's signature (first JWS token) while keeping it well-formed. */
function tamper(material: Material[]): Material[] {
  return material.map((m, i) => {
    if (i !== 0 || m.kind !== 'jws') return m;
    const [h, p, s] = m.text.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[5] = sig[5]! ^ 0xff;
    return { ...m, text: `${h}.${p}.${sig.toString('base64url')}` };
  });
}

export interface ScanWorld {
  inputFile: string;
  zoneFiles: string[];
  /** One line per target in input order: "name<TAB>status<TAB>level". */
  expectFile: string;
  expectations: Array<{ name: string } & Expectation>;
  zdnsFile: string;
}

/** Deterministic PRNG (mulberry32) so a failing run can be reproduced. */
function prng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function buildScanWorld(dir: string, total: number, mix: Record<Category, number> = DEFAULT_MIX, seed = 1): Promise<ScanWorld> {
  const [emblem, root, authority] = await makeKeys(3);
  const keys: OrgChainKeys = { emblem: emblem!, root: root!, authority: authority! };
  const templates: Record<Exclude<Category, 'nx'>, Template> = {
    pj: await template(await jwsOrgChain(keys, { emblem: { assets: ['*.pj.test'] } }), 'protected'),
    pc: await template(await cwtOrgChain(keys, { emblem: { assets: ['*.pc.test'] } }), 'protected'),
    ex: await template(await jwsOrgChain(keys, { emblem: { assets: ['*.ex.test'], ...validity(10 * DAY, NOW_S - 40 * DAY) } }), 'expired'),
    inv: await template(tamper(await jwsOrgChain(keys, { emblem: { assets: ['*.inv.test'] } })), 'invalid'),
    nc: await template(await jwsOrgChain(keys, { emblem: { assets: ['elsewhere.example'] } }), 'not-covered'),
    ne: { rdata: ['A 192.0.2.1', 'TXT "v=spf1 -all"'], zdns: [{ type: 'A', answer: '192.0.2.1' }, { type: 'TXT', answer: 'v=spf1 -all' }], expect: { status: 'no-emblem', level: null } },
  };
  const categories = Object.keys(mix) as Category[];
  const counts = new Map<Category, number>();
  let assigned = 0;
  for (const c of categories) {
    const n = c === categories[categories.length - 1] ? total - assigned : Math.floor(total * mix[c]);
    counts.set(c, n);
    assigned += n;
  }
  const names: Array<{ name: string; category: Category }> = [];
  for (const c of categories) for (let i = 0; i < counts.get(c)!; i++) names.push({ name: `n${i}.${c}.test`, category: c });
  const random = prng(seed);
  for (let i = names.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [names[i], names[j]] = [names[j]!, names[i]!];
  }

  const zoneFiles: string[] = [];
  for (const c of categories) {
    const { zone } = buildEmblemZone({ origin: `${c}.test`, owners: [], serial: 1 });
    const parts = [renderZoneFile(zone)];
    const t = c === 'nx' ? null : templates[c];
    if (t) {
      const lines: string[] = [];
      for (let i = 0; i < counts.get(c)!; i++) for (const r of t.rdata) lines.push(`n${i}.${c}.test. 3600 IN ${r}`);
      parts.push(`${lines.join('\n')}\n`);
    }
    const file = join(dir, `${c}.zone`);
    writeFileSync(file, parts.join(''));
    zoneFiles.push(file);
  }

  const expectations = names.map(({ name, category }) => ({
    name,
    ...(category === 'nx' ? { status: 'nxdomain', level: null } : templates[category].expect),
  }));
  const inputFile = join(dir, 'names.txt');
  writeFileSync(inputFile, `${names.map((n) => n.name).join('\n')}\n`);
  const expectFile = join(dir, 'expected.tsv');
  writeFileSync(expectFile, `${expectations.map((e) => `${e.name}\t${e.status}\t${e.level ?? ''}`).join('\n')}\n`);
  const zdnsFile = join(dir, 'names.zdns.jsonl');
  const zdnsLines = names.map(({ name, category }) => {
    if (category === 'nx') return JSON.stringify({ name, class: 'IN', status: 'NXDOMAIN', data: { answers: [] } });
    const answers = templates[category].zdns.map((a) => ({ ttl: 3600, type: a.type, class: 'IN', name, answer: a.answer }));
    return JSON.stringify({ name, class: 'IN', status: 'NOERROR', data: { answers } });
  });
  writeFileSync(zdnsFile, `${zdnsLines.join('\n')}\n`);
  return { inputFile, zoneFiles, expectFile, expectations, zdnsFile };
}
