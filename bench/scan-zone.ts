/**
 * Bench worlds for `emblem scan` (issue 14 targets 4 and 5), generated once and cached under .bench-out/ keyed by
 * their parameters, so repeated bench runs reuse them.
 *
 * - distinctEmblemWorld: `total` names of which `protectedShare` carry an emblem with its OWN ES512 key and
 *   signature, endorsed by their organisation's root key (a signature per target too); `orgs` organisations, each
 *   with one root key and one external endorsement by a shared authority (those repeat across the organisation's
 *   targets, so a verifier's caches may keep them). The rest carry no emblem (60 % of all names exist without
 *   emblem records, the remainder are NXDOMAIN), as on the real Internet. ES512 because the live sets use it
 *   (shared/interop, SPEC-NOTES); generating 10,000 P-521 keys and 20,000 signatures takes a minute or two, once.
 * - noEmblemWorld: names without emblems only (60 % exist, 40 % NXDOMAIN), with the dnsperf query file asking the
 *   same questions a scan asks (TXT for every name, then IHLE for names that exist).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Material } from '../src/core/material/material.js';
import { generateSigningKey, signJws, type SigningKey } from '../src/core/tokens/sign.js';
import { formatTxtRdata } from '../src/dns/character-strings.js';
import { emblemRecords } from '../src/dns/emblem-records.js';
import { buildEmblemZone } from '../src/dns/emblem-zone.js';
import { DEFAULT_IHLE_TYPE, RRType } from '../src/dns/rr-type.js';
import { renderZoneFile } from '../src/dns/zone-file.js';
import { AUTHORITY, JWS_LOG, validity } from '../test/helpers/tokens.js';

const OUT = fileURLToPath(new URL('../.bench-out/', import.meta.url));
/** Bumped when the generated content changes, so stale caches are not reused. */
const FORMAT = 2;

export interface BenchWorld {
  dir: string;
  zoneFiles: string[];
  /** One name per line, shuffled. */
  inputFile: string;
  total: number;
  protectedCount: number;
  /** JSON lines of Material[]: each protected target's token set as published (distinct-emblem world only). */
  setsFile?: string;
  /** dnsperf query file: the questions a scan asks for these names, in input order (no-emblem world only). */
  queryFile?: string;
  queries?: number;
}

/** Protected names are spread over this many zones: one zone of 10,000 P-521 sets (30 MB) exceeds the server's
 *  zone file limit (DnsLimits.maxZoneFileBytes, 16 MB). */
const PROTECTED_ZONES = 10;

function protectedName(i: number): string {
  return `p${i}.pd${i % PROTECTED_ZONES}.test`;
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], seed: number): T[] {
  const random = prng(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A cached world: `build` writes into a temporary directory renamed into place when complete. */
async function cached(params: Record<string, unknown>, build: (dir: string) => Promise<Omit<BenchWorld, 'dir'>>): Promise<BenchWorld & { reused: boolean }> {
  const key = createHash('sha256').update(JSON.stringify({ FORMAT, ...params })).digest('hex').slice(0, 16);
  const dir = join(OUT, `scan-world-${key}`);
  const meta = join(dir, 'world.json');
  if (existsSync(meta)) return { ...(JSON.parse(readFileSync(meta, 'utf8')) as Omit<BenchWorld, 'dir'>), dir, reused: true };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const world = await build(tmp);
  const relocate = (p: string | undefined) => (p === undefined ? undefined : join(dir, p.slice(tmp.length + 1)));
  const final = {
    ...world,
    zoneFiles: world.zoneFiles.map((z) => relocate(z)!),
    inputFile: relocate(world.inputFile)!,
    setsFile: relocate(world.setsFile),
    queryFile: relocate(world.queryFile),
  };
  writeFileSync(join(tmp, 'world.json'), JSON.stringify({ params, ...final }));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { ...final, dir, reused: false };
}

function zoneHead(origin: string): string {
  return renderZoneFile(buildEmblemZone({ origin, owners: [], serial: 1 }).zone);
}

/** Names without emblems: `n<i>.ne.test` exist (A and an SPF TXT), `n<i>.nx.test` are NXDOMAIN. */
function emptyNames(count: number, existing: number): { names: string[]; neZone: string } {
  const names: string[] = [];
  const lines: string[] = [];
  for (let i = 0; i < existing; i++) {
    names.push(`n${i}.ne.test`);
    lines.push(`n${i}.ne.test. 3600 IN A 192.0.2.1`, `n${i}.ne.test. 3600 IN TXT "v=spf1 -all"`);
  }
  for (let i = existing; i < count; i++) names.push(`n${i}.nx.test`);
  return { names, neZone: `${zoneHead('ne.test')}${lines.join('\n')}\n` };
}

export function noEmblemWorld(total: number, seed = 5): Promise<BenchWorld & { reused: boolean }> {
  return cached({ kind: 'no-emblem', total, seed }, async (dir) => {
    const { names, neZone } = emptyNames(total, Math.floor(total * 0.6));
    shuffle(names, seed);
    const zoneFiles = [join(dir, 'ne.zone'), join(dir, 'nx.zone')];
    writeFileSync(zoneFiles[0]!, neZone);
    writeFileSync(zoneFiles[1]!, zoneHead('nx.test'));
    const inputFile = join(dir, 'names.txt');
    writeFileSync(inputFile, `${names.join('\n')}\n`);
    // What `emblem scan --era any` asks: TXT; for a name that exists and has no IHLE in that answer, IHLE too.
    const queries: string[] = [];
    for (const n of names) {
      queries.push(`${n} TXT`);
      if (n.endsWith('.ne.test')) queries.push(`${n} TYPE${DEFAULT_IHLE_TYPE}`);
    }
    const queryFile = join(dir, 'queries.txt');
    writeFileSync(queryFile, `${queries.join('\n')}\n`);
    return { zoneFiles, inputFile, total, protectedCount: 0, queryFile, queries: queries.length };
  });
}

export function distinctEmblemWorld(
  total: number,
  protectedShare = 0.1,
  orgs = 100,
  onProgress?: (done: number, of: number) => void,
  seed = 7,
): Promise<BenchWorld & { reused: boolean }> {
  return cached({ kind: 'distinct-emblems', total, protectedShare, orgs, alg: 'ES512', seed }, async (dir) => {
    const protectedCount = Math.round(total * protectedShare);
    const t = validity(365 * 86_400);
    const authority = (await generateSigningKey('ES512')).key;
    const roots: Array<{ iss: string; key: SigningKey; external: string }> = [];
    for (let o = 0; o < orgs; o++) {
      const iss = `https://org${o}.example`;
      const key = (await generateSigningKey('ES512')).key;
      const external = await signJws('endorsement', { iss: AUTHORITY, sub: iss, ...t, endorse: key.publicKey, end: true, log: JWS_LOG }, authority);
      roots.push({ iss, key, external });
    }
    const setsFile = join(dir, 'sets.jsonl');
    const sets: string[] = [];
    const zoneLines: string[] = [];
    // WebCrypto runs key generation and signing on libuv's thread pool: a few dozen at a time keep every core busy.
    const CHUNK = 32;
    for (let start = 0; start < protectedCount; start += CHUNK) {
      const chunk = await Promise.all(
        Array.from({ length: Math.min(CHUNK, protectedCount - start) }, async (_, k) => {
          const i = start + k;
          const org = roots[i % orgs]!;
          const name = protectedName(i);
          const emblemKey = (await generateSigningKey('ES512')).key;
          const [emblem, internal] = await Promise.all([
            signJws('emblem', { iss: org.iss, ...t, assets: [name], purposes: ['protective'] }, emblemKey),
            signJws('endorsement', { iss: org.iss, sub: org.iss, ...t, endorse: emblemKey.publicKey, end: true, log: JWS_LOG }, org.key),
          ]);
          const material: Material[] = [
            { kind: 'jws', text: emblem },
            { kind: 'jws', text: internal },
            { kind: 'jws', text: org.external },
            { kind: 'jwk', jwk: emblemKey.publicKey.jwk },
            { kind: 'jwk', jwk: org.key.publicKey.jwk },
            { kind: 'jwk', jwk: authority.publicKey.jwk },
          ];
          return { name, material };
        }),
      );
      for (const { name, material } of chunk) {
        sets.push(JSON.stringify(material));
        const { records } = emblemRecords(material.map((m) => ({ material: m, identifier: null })), name, { era: 'jws', ttl: 3600, ihleType: DEFAULT_IHLE_TYPE });
        for (const r of records) if (r.type === RRType.TXT) zoneLines.push(`${name}. 3600 IN TXT ${formatTxtRdata(r.rdata)}`);
      }
      onProgress?.(Math.min(start + CHUNK, protectedCount), protectedCount);
    }
    writeFileSync(setsFile, `${sets.join('\n')}\n`);
    const rest = total - protectedCount;
    const { names, neZone } = emptyNames(rest, Math.floor(total * 0.6));
    for (let i = 0; i < protectedCount; i++) names.push(protectedName(i));
    shuffle(names, seed);
    const zoneFiles = [join(dir, 'ne.zone'), join(dir, 'nx.zone')];
    writeFileSync(zoneFiles[0]!, neZone);
    writeFileSync(zoneFiles[1]!, zoneHead('nx.test'));
    for (let z = 0; z < PROTECTED_ZONES; z++) {
      const file = join(dir, `pd${z}.zone`);
      writeFileSync(file, `${zoneHead(`pd${z}.test`)}${zoneLines.filter((l) => l.includes(`.pd${z}.test. `)).join('\n')}\n`);
      zoneFiles.push(file);
    }
    const inputFile = join(dir, 'names.txt');
    writeFileSync(inputFile, `${names.join('\n')}\n`);
    return { zoneFiles, inputFile, total, protectedCount, setsFile };
  });
}

/** The protected targets' token sets of a distinct-emblem world, in generation order. */
export function readSets(world: BenchWorld): Material[][] {
  return readFileSync(world.setsFile!, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Material[]);
}
