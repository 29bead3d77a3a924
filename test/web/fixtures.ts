/**
 * A local world for dashboard tests: the demo's chain (authority -> organisation root key -> emblem key -> emblem)
 * with root-key commitments in a local CT log, published in a zone served by `emblem dns serve`, plus a broken set
 * and a thousand names for scans. Every time is fixed (T0); nothing reads the wall clock.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKey, signToken, type SigningKey } from '../../src/core/tokens/sign.js';
import { prepareLocalCtCommitments, type LocalCtCommitments } from '../../src/ct/local-ct-commitments.js';
import { installNodeSignatureVerifier } from '../../src/crypto/node-signature-verifier.js';
import { runCli } from '../helpers/cli.js';
import { startEmblemServer, tempDir, type EmblemServer } from '../dns/servers.js';

installNodeSignatureVerifier();

export const T0 = '2026-11-01T12:00:00Z';
const T0_S = Date.parse(T0) / 1000;
const DAY = 86_400;
export const ZONE = 'hospital.example';
export const ASSET = `clinic.${ZONE}`;
export const BROKEN = `broken.${ZONE}`;
export const ORG = `https://${ZONE}`;
export const AUTHORITY = 'https://authority.example';

export interface World {
  dir: string;
  dns: EmblemServer;
  resolver: string;
  ct: LocalCtCommitments;
  /** The demo chain's set as `emblem verify` reads it (tokens, then keys). */
  setFile: string;
  setText: string;
  authorityKeyFile: string;
  caFile: string;
  /** `emblem serve` flags that make CT commitments checkable against the local log. */
  ctFlags: string[];
  kids: { emblem: string; root: string; authority: string };
  /** Removes the asset's emblem records from the zone and has the DNS server reload it (SIGHUP): an injected removal. */
  removeAssetRecords(): Promise<void>;
  /** Names for a scan: the asset, the broken one and unpublished names in the zone. */
  scanNames(count: number): string[];
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const tmp = tempDir('emblem-web-');
  const dir = tmp.path;
  const keys = {} as Record<'authority' | 'root' | 'emblem', SigningKey>;
  for (const name of ['authority', 'root', 'emblem'] as const) keys[name] = (await generateSigningKey('ES256')).key;
  const ct = await prepareLocalCtCommitments(dir, [
    { name: 'root', host: ZONE, key: keys.root.publicKey },
    { name: 'authority', host: 'authority.example', key: keys.authority.publicKey },
  ]);
  try {
    const times = { iat: T0_S - DAY, nbf: T0_S - DAY, exp: T0_S + 30 * DAY };
    const emblem = await signToken('jws', 'emblem', { ...times, iss: ORG, assets: [ASSET], purposes: ['protective'] }, keys.emblem);
    const root = await signToken('jws', 'endorsement', { ...times, iss: ORG, sub: ORG, endorse: keys.emblem.publicKey, end: false, purposes: ['protective'], log: ct.logFor('root', 'jws') }, keys.root);
    const external = await signToken('jws', 'endorsement', { ...times, exp: T0_S + 365 * DAY, iss: AUTHORITY, sub: ORG, endorse: keys.root.publicKey, end: true, log: ct.logFor('authority', 'jws') }, keys.authority);
    const keyLines = [keys.emblem, keys.root, keys.authority].map((k) => JSON.stringify(k.publicKey.jwk));
    const setText = `${[emblem.text, root.text, external.text, ...keyLines].join('\n')}\n`;
    const setFile = join(dir, 'clinic-set.txt');
    writeFileSync(setFile, setText);
    // Broken: the emblem's signature is altered (one character of the signature part), so it does not verify.
    const parts = emblem.text.split('.');
    const sig = parts[2]!;
    parts[2] = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    const brokenFile = join(dir, 'broken-set.txt');
    writeFileSync(brokenFile, `${[parts.join('.'), root.text, external.text, ...keyLines].join('\n')}\n`);
    const authorityKeyFile = join(dir, 'authority.pub.jwk');
    writeFileSync(authorityKeyFile, JSON.stringify(keys.authority.publicKey.jwk));

    const zoneFile = join(dir, `${ZONE}.zone`);
    const writeZone = async (serial: number, adds: string[]) => {
      const z = await runCli(['dns', 'zone', '--origin', ZONE, '--era', 'jws', '--serial', String(serial), '--ttl', '60', ...adds.flatMap((a) => ['--add', a]), '--out', `${zoneFile}.new`]);
      if (z.code !== 0) throw new Error(`dns zone failed: ${z.stderr}`);
      renameSync(`${zoneFile}.new`, zoneFile);
    };
    await writeZone(1, [`${ASSET}=${setFile}`, `${BROKEN}=${brokenFile}`]);
    // The Scan page test sends 1,000 queries from one client in a burst: exactly what response-rate limiting exists
    // to throttle (half the limited answers dropped, so some names end as DNS_TIMEOUT errors). Off, as for load tests.
    const dns = await startEmblemServer([zoneFile], ['--rrl-responses-per-second', '0']);
    const caFile = join(dir, 'ca.pem');
    return {
      dir,
      dns,
      resolver: `127.0.0.1:${dns.port}`,
      ct,
      setFile,
      setText,
      authorityKeyFile,
      caFile,
      ctFlags: ['--log-list', ct.logListUrl, '--ca-bundle', caFile],
      kids: { emblem: keys.emblem.publicKey.jwsKid, root: keys.root.publicKey.jwsKid, authority: keys.authority.publicKey.jwsKid },
      async removeAssetRecords() {
        await writeZone(2, [`${BROKEN}=${brokenFile}`]);
        dns.child.kill('SIGHUP');
        // Reloaded once the asset's TXT answer is gone (the server swaps zones atomically on SIGHUP).
        const { discoverEmblemRecords } = await import('../../src/dns/discovery.js');
        const { parseResolverSpec } = await import('../../src/dns/resolver.js');
        const { normalizeUserName } = await import('../../src/dns/domain-name.js');
        for (let i = 0; i < 100; i++) {
          const d = await discoverEmblemRecords(normalizeUserName(ASSET), { resolver: parseResolverSpec(`127.0.0.1:${dns.port}`, undefined), era: 'jws', ihleType: 65400, timeoutMs: 1000, attempts: 1 });
          if (d.txtValues.length === 0) return;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error('the DNS server did not reload the zone');
      },
      scanNames(count) {
        const names = [ASSET, BROKEN];
        for (let i = 0; names.length < count; i++) names.push(`host${i}.${ZONE}`);
        return names;
      },
      async close() {
        await dns.stop();
        await ct.close();
        tmp.remove();
      },
    };
  } catch (err) {
    await ct.close();
    tmp.remove();
    throw err;
  }
}
