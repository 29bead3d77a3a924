// The observatory store on PostgreSQL (a throwaway Debian server, test/helpers/postgres.ts): the shared suite
// (store-suite.ts), plus issue 12 acceptance 8: a database that goes away and comes back loses nothing silently.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { ObservationIndexRecord } from '../../src/observatory/store.js';
import { openObservatoryStore, StoreErrorCodes } from '../../src/store/database/index.js';
import { postgresAvailable, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { runStoreSuite } from './store-suite.js';

// Without PostgreSQL a developer machine skips; CI installs it (.ci/run) and must not silently skip.
const skip = !postgresAvailable() && process.env.CI !== 'true' ? 'PostgreSQL is not installed (apt-get install postgresql)' : false;

let server: RunningPostgres;
before(async () => {
  if (skip) return;
  server = await startPostgres();
});
after(async () => {
  await server?.remove();
});

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const observation = (i: number): ObservationIndexRecord => ({
  target: 'a.example',
  time: at(i),
  vantagePoint: 'vp1',
  status: 'ENDORSED-TRUSTED',
  leafIndex: i,
});
const isUnavailable = (err: unknown): boolean => {
  assert.equal((err as { code?: unknown }).code, StoreErrorCodes.STORE_UNAVAILABLE, String(err));
  return true;
};

if (skip) {
  test('observatory store (postgres)', { skip }, () => {});
} else {
  runStoreSuite({
    name: 'postgres',
    freshUrl: () => server.createSchema(),
    async setSchemaVersion(url, version) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('UPDATE observatory_schema SET version = $1', [version]);
      } finally {
        await client.end();
      }
    },
  });

  describe('postgres: the database goes away and comes back (acceptance 8)', () => {
    test('while it is down every call fails with STORE_UNAVAILABLE; after it is back, writes succeed and nothing is lost', async () => {
      const store = await openObservatoryStore(await server.createSchema());
      try {
        await store.addObservations([observation(0), observation(1)]);
        await server.stop();
        await assert.rejects(store.addObservations([observation(2)]), isUnavailable);
        await assert.rejects(store.putTargetStates([{ target: 'a.example', state: '{}', updated: at(2) }]), isUnavailable);
        await assert.rejects(store.incidents(), isUnavailable);
        await server.start();
        // The caller kept what failed and sends it again; the pool reconnects on its own.
        await store.addObservations([observation(2)]);
        await store.addObservations([observation(3)]);
        assert.deepEqual(
          (await store.observations('a.example', at(0), at(9))).map((o) => o.leafIndex),
          [0, 1, 2, 3],
        );
      } finally {
        await store.close();
      }
    });

    test('a batch in flight when the server stops is stored whole or refused loudly; the retry completes it exactly once', async () => {
      const store = await openObservatoryStore(await server.createSchema());
      try {
        const batch = Array.from({ length: 20_000 }, (_, i) => observation(i));
        const write = store.addObservations(batch).then(
          () => 'stored' as const,
          (err: unknown) => (isUnavailable(err) ? ('refused' as const) : ('other' as const)),
        );
        await server.stop();
        const outcome = await write;
        await server.start();
        const before = (await store.observations('a.example', at(0), at(20_000), 10_000)).length;
        if (outcome === 'refused') {
          // All or nothing: a refused batch left nothing behind, or (only the acknowledgement was lost) all of it,
          // of which this first page shows 10,000.
          assert.ok(before === 0 || before === 10_000, `partial batch: ${before}`);
          await store.addObservations(batch);
        } else {
          assert.equal(outcome, 'stored');
        }
        await store.addObservations(batch); // an extra retry changes nothing
        // Read in two pages (observations() returns at most 10,000 rows a call).
        const first = await store.observations('a.example', at(0), at(9_999));
        const second = await store.observations('a.example', at(10_000), at(19_999));
        assert.equal(first.length + second.length, 20_000);
        assert.deepEqual([...first, ...second].map((o) => o.leafIndex), batch.map((o) => o.leafIndex));
      } finally {
        await store.close();
      }
    });

    test('opening a store on a server that is not there is STORE_UNAVAILABLE, not a hang', async () => {
      const port = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => resolve(p));
        });
      });
      await assert.rejects(openObservatoryStore(`postgres://postgres@127.0.0.1:${port}/postgres`), isUnavailable);
    });
  });
}
