import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from './suites.js';
import { measure } from './measure.js';
import { buildEmblemZone } from '../src/dns/emblem-zone.js';
import { parsePublishableText } from '../src/dns/material-files.js';
import { renderZoneFile } from '../src/dns/zone-file.js';
import { AuthoritativeResponder } from '../src/dns/authoritative-responder.js';
import { AuthoritativeServer } from '../src/dns/authoritative-server.js';
import { indexZones } from '../src/dns/authoritative-data.js';
import { parseZoneFile } from '../src/dns/zone-file.js';
import { DEFAULT_IHLE_TYPE } from '../src/dns/rr-type.js';
import { skipCommitmentCheck } from '../src/core/verify/commitment.js';
import { buildApp } from '../src/server/app.js';
import { tempDir } from '../test/dns/servers.js';

const INTEROP_DNS = fileURLToPath(new URL('../../shared/interop/dns/', import.meta.url));
/** Names in the local zone; a "cold" request asks for one not asked before (no answer cache, full lookup + verify). */
const NAMES = 5_000;
const AT = '2026-06-17T00:10:00Z';

/**
 * `GET /api/check` over real HTTP (loopback) against an in-process authoritative server with a local zone: a cached
 * name (the API's short answer cache) and cold names (DNS lookup + verification each time). Commitment checks are
 * skipped (CT is measured in the ct suite).
 */
const suite: BenchSuite = {
  name: 'serve (emblem serve: Check API)',
  async run() {
    const dir = tempDir('emblem-bench-serve-');
    const set = parsePublishableText(readFileSync(join(INTEROP_DNS, 'emblem.felixlinker.de.txt')), 'felix');
    const { zone } = buildEmblemZone({
      origin: 'bench.example',
      serial: 1,
      owners: [{ owner: 'emblem.felixlinker.de.bench.example', items: set }, ...Array.from({ length: NAMES }, (_, i) => ({ owner: `n${i}.bench.example`, items: set }))],
      addresses: [],
    });
    const path = join(dir.path, 'bench.zone');
    writeFileSync(path, renderZoneFile(zone));
    const data = indexZones([parseZoneFile(readFileSync(path, 'utf8'), { ihleType: DEFAULT_IHLE_TYPE })], DEFAULT_IHLE_TYPE);
    const dns = new AuthoritativeServer(new AuthoritativeResponder(data), undefined, { rrlResponsesPerSecond: 0 });
    const [resolver] = await dns.start([{ host: '127.0.0.1', port: 0 }]);
    const app = await buildApp({
      verify: { trustedKeys: [], policy: 'spec', commitments: async () => skipCommitmentCheck, ctBundle: async () => null },
      check: { requestResolver: true, era: 'any', ihleType: DEFAULT_IHLE_TYPE, timeoutMs: 2000, attempts: 1 },
      tokens: null,
      webRoot: null,
      audit: () => undefined,
      ratePerSecond: 0,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      const ask = async (name: string) => {
        const res = await fetch(`${base}/api/check?name=${name}&resolver=${resolver}&at=${AT}&skipCommitmentCheck=true`);
        const body = (await res.json()) as { status?: string };
        if (res.status !== 200 || !body.status || body.status === 'error') throw new Error(`check ${name}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      };
      const cached = await measure(() => ask('n0.bench.example'));
      let i = 1;
      const cold = await measure(() => ask(`n${i++ % NAMES}.bench.example`));
      console.log('| request | requests/s | CPU µs/request (server and client in one process) |');
      console.log('|---|---:|---:|');
      console.log(`| GET /api/check, cached name | ${cached.perSecond.toFixed(0)} | ${cached.cpuMicros.toFixed(0)} |`);
      console.log(`| GET /api/check, cold name (DNS + verify) | ${cold.perSecond.toFixed(0)} | ${cold.cpuMicros.toFixed(0)} |`);
      console.log(`(one client, sequential requests; ${NAMES} names in the local zone; cold names: ${Math.min(i, NAMES)} distinct asked)`);
    } finally {
      await app.close();
      await dns.stop();
      dir.remove();
    }
  },
};

export default suite;
