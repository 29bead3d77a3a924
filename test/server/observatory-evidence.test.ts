import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { ServeFlags } from '../../src/cli/commands/serve.js';
import { openEvidenceLog, verifyEvidenceBundle } from '../../src/evidence/index.js';
import { openAreas } from '../../src/server/areas.js';
import { openObservatoryStore } from '../../src/store/database/index.js';
import { tempDir } from '../dns/servers.js';
import { encodeRecord, observation } from '../evidence/fixtures.js';
import { testApp } from './app-fixture.js';

// `emblem serve --observe-config` with the merged observatory: the real observe config, SQLite store and evidence
// log (openAreas), not an injected exporter. GET /api/observatory/evidence answers the bundle in its canonical
// text, which verifies offline against the observer's key.
describe('emblem serve --observe-config: evidence export from the real evidence log and store', () => {
  const dir = tempDir('emblem-api-evidence-');
  const TARGET = 'clinic.hospital.example';
  let app: FastifyInstance;
  let close: (() => Promise<void>) | undefined;

  before(async () => {
    const evidenceDir = join(dir.path, 'evidence');
    const log = await openEvidenceLog(evidenceDir, { origin: 'api.test/evidence', now: () => new Date('2026-06-17T00:00:00Z') });
    const times = ['2026-06-16T00:00:00.000Z', '2026-06-16T00:00:10.000Z'];
    const leaves: number[] = [];
    for (const time of times) leaves.push(await log.append(encodeRecord(observation(TARGET, time, 'vp1', null, 'no-emblem'))));
    await log.publishCheckpoint();
    await log.close();
    const store = await openObservatoryStore(`sqlite:${join(dir.path, 'obs.sqlite')}`);
    await store.migrate();
    await store.addObservations(times.map((time, i) => ({ target: TARGET, time, vantagePoint: 'vp1', status: 'no-emblem', leafIndex: leaves[i]! })));
    await store.close();
    const config = join(dir.path, 'observe.yaml');
    writeFileSync(config, `targets: [${TARGET}]\nvantagePoints:\n  - { name: vp1, resolver: "127.0.0.1:5301" }\nwindowSeconds: 60\ndatabase: sqlite:obs.sqlite\nevidenceDir: evidence\n`);
    const areas = await openAreas({ observeConfig: config } as ServeFlags);
    close = areas.close;
    assert.ok(areas.observatory);
    ({ app } = await testApp({ observatory: areas.observatory }));
  });
  after(async () => {
    await app?.close();
    await close?.();
    dir.remove();
  });

  it('GET /api/observatory/evidence answers a bundle that verifies against observer.pub', async () => {
    const res = await app.inject(`/api/observatory/evidence?target=${TARGET}&at=2026-06-16T00:00:05Z`);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const bundle = JSON.parse(res.body) as { target: string; entries: Array<{ leafIndex: number }> };
    assert.equal(bundle.target, TARGET);
    assert.deepEqual(bundle.entries.map((e) => e.leafIndex), [0, 1]);
    const verified = await verifyEvidenceBundle(res.body, readFileSync(join(dir.path, 'evidence', 'observer.pub'), 'utf8'));
    assert.equal(verified.ok, true, JSON.stringify(verified.errors));
  });
});
