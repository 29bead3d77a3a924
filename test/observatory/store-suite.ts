/**
 * The observatory store's behaviour, one suite for every backend (issue 12 acceptance 4): store-sqlite.test.ts
 * and store-postgres.test.ts call runStoreSuite with a way to get a fresh, empty database. Whatever one backend
 * does here, the other must do too; backend-specific checks live in those files.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { NewIncident, ObservationIndexRecord, ObservatoryStore, TargetStateRecord } from '../../src/observatory/store.js';
import { openObservatoryStore, StoreErrorCodes, StoreLimits } from '../../src/store/database/index.js';

export interface StoreBackend {
  name: string;
  /** The URL of a new, empty database (or namespace) for one test. */
  freshUrl(): Promise<string>;
  /** Sets the recorded schema version behind the store's back (to simulate a newer emblem's database). */
  setSchemaVersion(url: string, version: number): Promise<void>;
}

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
/** The time `seconds` after T0, as the store keeps it. */
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

function code(c: string) {
  return (err: unknown): boolean => {
    assert.equal((err as { code?: unknown }).code, c, `expected ${c}, got ${String(err)}`);
    return true;
  };
}

export function runStoreSuite(backend: StoreBackend): void {
  async function withStore(work: (store: ObservatoryStore, url: string) => Promise<void>): Promise<void> {
    const url = await backend.freshUrl();
    const store = await openObservatoryStore(url);
    try {
      await work(store, url);
    } finally {
      await store.close();
    }
  }

  describe(`observatory store (${backend.name})`, () => {
    test('migrate() is idempotent and a reopened database keeps its data', async () => {
      const url = await backend.freshUrl();
      const first = await openObservatoryStore(url);
      await first.migrate();
      await first.migrate();
      await first.putTargetStates([{ target: 'a.example', state: '{"level":"ENDORSED"}', updated: at(0) }]);
      await first.setCursor('ct:log1', '42');
      await first.close();
      const second = await openObservatoryStore(url);
      try {
        await second.migrate();
        assert.deepEqual([...(await second.getTargetStates(['a.example'])).values()], [
          { target: 'a.example', state: '{"level":"ENDORSED"}', updated: at(0) },
        ]);
        assert.equal(await second.getCursor('ct:log1'), '42');
      } finally {
        await second.close();
      }
    });

    test('a database of a newer schema version is refused with STORE_SCHEMA_TOO_NEW', async () => {
      const url = await backend.freshUrl();
      await (await openObservatoryStore(url)).close();
      await backend.setSchemaVersion(url, 999);
      await assert.rejects(openObservatoryStore(url), code(StoreErrorCodes.STORE_SCHEMA_TOO_NEW));
    });

    test('target states: upsert, lookup of a subset, the last record of a target in a batch wins', async () => {
      await withStore(async (store) => {
        assert.equal((await store.getTargetStates([])).size, 0);
        await store.putTargetStates([
          { target: 'a.example', state: 's1', updated: at(0) },
          { target: 'b.example', state: 's1', updated: at(0) },
          { target: 'a.example', state: 's2', updated: at(1) },
        ]);
        await store.putTargetStates([{ target: 'b.example', state: 's3', updated: at(2) }]);
        const got = await store.getTargetStates(['a.example', 'b.example', 'missing.example', 'a.example']);
        assert.deepEqual(
          [...got.entries()].sort(([x], [y]) => x.localeCompare(y)),
          [
            ['a.example', { target: 'a.example', state: 's2', updated: at(1) }],
            ['b.example', { target: 'b.example', state: 's3', updated: at(2) }],
          ],
        );
      });
    });

    test('target states: batches larger than one statement round-trip completely', async () => {
      await withStore(async (store) => {
        const n = StoreLimits.insertBatchRows * 2 + 7;
        const records: TargetStateRecord[] = Array.from({ length: n }, (_, i) => ({
          target: `t${i}.example`,
          state: JSON.stringify({ i }),
          updated: at(i),
        }));
        await store.putTargetStates(records);
        const got = await store.getTargetStates(records.map((r) => r.target));
        assert.equal(got.size, n);
        for (const r of records) assert.deepEqual(got.get(r.target), r);
      });
    });

    test('observations: inclusive time range, oldest first, limit, one target only', async () => {
      await withStore(async (store) => {
        const rec = (target: string, s: number, vp: string, status: string, leaf: number | null): ObservationIndexRecord => ({
          target,
          time: at(s),
          vantagePoint: vp,
          status,
          leafIndex: leaf,
        });
        // Inserted out of order, across two calls.
        await store.addObservations([rec('a.example', 20, 'vp1', 'no-emblem', 5), rec('a.example', 0, 'vp1', 'ENDORSED-TRUSTED', 0)]);
        await store.addObservations([
          rec('a.example', 10, 'vp2', 'error', null),
          rec('a.example', 10, 'vp1', 'ENDORSED-TRUSTED', 2),
          rec('b.example', 10, 'vp1', 'nxdomain', 3),
          rec('a.example', 30, 'vp1', 'no-emblem', 7),
        ]);
        const all = await store.observations('a.example', at(0), at(30));
        assert.deepEqual(
          all.map((o) => [o.time, o.vantagePoint, o.status, o.leafIndex]),
          [
            [at(0), 'vp1', 'ENDORSED-TRUSTED', 0],
            [at(10), 'vp2', 'error', null],
            [at(10), 'vp1', 'ENDORSED-TRUSTED', 2],
            [at(20), 'vp1', 'no-emblem', 5],
            [at(30), 'vp1', 'no-emblem', 7],
          ],
        );
        assert.deepEqual((await store.observations('a.example', at(10), at(20))).map((o) => o.leafIndex), [null, 2, 5]);
        assert.deepEqual((await store.observations('a.example', at(0), at(30), 2)).map((o) => o.leafIndex), [0, null]);
        assert.deepEqual(await store.observations('a.example', at(31), at(99)), []);
        assert.deepEqual((await store.observations('b.example', at(0), at(99))).map((o) => o.target), ['b.example']);
      });
    });

    test('observations: times are kept in one ISO form, so text order is time order', async () => {
      await withStore(async (store) => {
        await store.addObservations([
          { target: 'a.example', time: '2026-03-01T00:00:05.500Z', vantagePoint: 'vp', status: 'x', leafIndex: 2 },
          { target: 'a.example', time: '2026-03-01T00:00:05Z', vantagePoint: 'vp', status: 'x', leafIndex: 1 },
        ]);
        const got = await store.observations('a.example', '2026-03-01T00:00:05Z', '2026-03-01T00:00:06Z');
        assert.deepEqual(
          got.map((o) => [o.time, o.leafIndex]),
          [
            ['2026-03-01T00:00:05.000Z', 1],
            ['2026-03-01T00:00:05.500Z', 2],
          ],
        );
      });
    });

    test('observations: re-adding an identical batch (a retry after a lost acknowledgement) does not double it', async () => {
      await withStore(async (store) => {
        const batch: ObservationIndexRecord[] = [
          { target: 'a.example', time: at(1), vantagePoint: 'vp1', status: 'SIGNED-UNTRUSTED', leafIndex: 11 },
          { target: 'a.example', time: at(1), vantagePoint: 'vp2', status: 'error', leafIndex: null },
        ];
        await store.addObservations(batch);
        await store.addObservations(batch);
        // A different record at the same time and vantage point is not a duplicate.
        await store.addObservations([{ target: 'a.example', time: at(1), vantagePoint: 'vp2', status: 'error', leafIndex: 12 }]);
        assert.equal((await store.observations('a.example', at(0), at(2))).length, 3);
      });
    });

    test('observations: discardObservationsFromLeaf(size) removes the rows at leaf >= size (a log truncated by a crash), keeps the rest', async () => {
      await withStore(async (store) => {
        await store.addObservations([
          { target: 'a.example', time: at(1), vantagePoint: 'vp1', status: 'x', leafIndex: 9 },
          { target: 'a.example', time: at(2), vantagePoint: 'vp1', status: 'x', leafIndex: 10 },
          { target: 'a.example', time: at(3), vantagePoint: 'vp1', status: 'x', leafIndex: 11 },
          { target: 'a.example', time: at(4), vantagePoint: 'vp2', status: 'error', leafIndex: null },
        ]);
        assert.equal(await store.discardObservationsFromLeaf(10), 2);
        assert.deepEqual((await store.observations('a.example', at(0), at(9))).map((o) => o.leafIndex), [9, null]);
        assert.equal(await store.discardObservationsFromLeaf(10), 0, 'idempotent');
        await assert.rejects(store.discardObservationsFromLeaf(-1), code(StoreErrorCodes.STORE_INPUT_INVALID));
      });
    });

    test('incidents: discardIncidentObservationsFromLeaf(size) drops leaf indexes >= size and notes it in the detail', async () => {
      await withStore(async (store) => {
        const a = await store.openIncident({ type: 'EMBLEM_MISSING', target: 'a.example', severity: 'critical', opened: at(1), observations: [3, 9, 10, 12], detail: 'protected -> no-emblem' });
        const b = await store.openIncident({ type: 'KEY_CHANGED', target: 'b.example', severity: 'warning', opened: at(1), observations: [1, 2], detail: 'keys' });
        await store.closeIncident(b.id, at(2), [4]);
        assert.deepEqual(await store.discardIncidentObservationsFromLeaf(10), [{ id: a.id, dropped: [10, 12] }]);
        const [ra, rb] = await store.incidents();
        assert.deepEqual(ra!.observations, [3, 9]);
        assert.match(ra!.detail, /^protected -> no-emblem \[repaired after a crash: observation leaves 10, 12 .*log size 10/);
        assert.deepEqual([rb!.observations, rb!.detail], [[1, 2, 4], 'keys'], 'an incident without lost leaves is untouched');
        assert.deepEqual(await store.discardIncidentObservationsFromLeaf(10), [], 'idempotent');
        await assert.rejects(store.discardIncidentObservationsFromLeaf(-1), code(StoreErrorCodes.STORE_INPUT_INVALID));
        const long = await store.openIncident({ type: 'LEVEL_DROPPED', target: 'c.example', severity: 'critical', opened: at(1), observations: [20], detail: 'x'.repeat(StoreLimits.maxDetailBytes) });
        await store.discardIncidentObservationsFromLeaf(10);
        const rc = (await store.incidents({ target: 'c.example' })).find((i) => i.id === long.id)!;
        assert.ok(Buffer.byteLength(rc.detail) <= StoreLimits.maxDetailBytes && rc.detail.includes('repaired after a crash'), 'the note fits the detail bound');
      });
    });

    test('observations: a batch with one bad record is refused whole (STORE_INPUT_INVALID), nothing stored', async () => {
      await withStore(async (store) => {
        const good: ObservationIndexRecord = { target: 'a.example', time: at(1), vantagePoint: 'vp', status: 'x', leafIndex: 1 };
        for (const bad of [
          { ...good, time: 'yesterday' },
          { ...good, time: '2026-03-01T00:00:00+01:00' },
          { ...good, leafIndex: -1 },
          { ...good, leafIndex: 1.5 },
          { ...good, target: '' },
          { ...good, target: 'a\u0000b' },
          { ...good, status: '\ud800' },
          { ...good, vantagePoint: 'v'.repeat(StoreLimits.maxShortTextBytes + 1) },
        ]) {
          await assert.rejects(store.addObservations([good, bad]), code(StoreErrorCodes.STORE_INPUT_INVALID));
        }
        assert.deepEqual(await store.observations('a.example', at(0), at(9)), []);
        await assert.rejects(store.observations('a.example', at(0), at(9), 0), code(StoreErrorCodes.STORE_INPUT_INVALID));
      });
    });

    test('observations: concurrent batches are all stored', async () => {
      await withStore(async (store) => {
        await Promise.all(
          Array.from({ length: 8 }, (_, b) =>
            store.addObservations(
              Array.from({ length: 50 }, (_, i) => ({
                target: 'a.example',
                time: at(b * 50 + i),
                vantagePoint: 'vp',
                status: 'ok',
                leafIndex: b * 50 + i,
              })),
            ),
          ),
        );
        const got = await store.observations('a.example', at(0), at(400));
        assert.deepEqual(
          got.map((o) => o.leafIndex),
          Array.from({ length: 400 }, (_, i) => i),
        );
      });
    });

    test('incidents: open, reopen of the same open incident, close with observations, filters, order', async () => {
      await withStore(async (store) => {
        const missing = await store.openIncident({
          type: 'EMBLEM_MISSING',
          target: 'a.example',
          severity: 'critical',
          opened: at(20),
          observations: [4, 5],
          detail: 'ENDORSED-TRUSTED -> no-emblem',
        });
        assert.ok(Number.isSafeInteger(missing.id) && missing.id > 0);
        assert.deepEqual({ ...missing, id: 0 }, {
          id: 0,
          type: 'EMBLEM_MISSING',
          target: 'a.example',
          severity: 'critical',
          opened: at(20),
          closed: null,
          observations: [4, 5],
          detail: 'ENDORSED-TRUSTED -> no-emblem',
        });
        // A retried open of the same incident returns it; it does not open a second one.
        const again = await store.openIncident({ ...missing, opened: at(21), observations: [6] });
        assert.deepEqual(again, missing);
        const earlier = await store.openIncident({
          type: 'INCONSISTENT',
          target: 'b.example',
          severity: 'warning',
          opened: at(10),
          observations: [],
          detail: 'vp1 != vp2',
        });
        const otherCert = await store.openIncident({
          type: 'CT_UNEXPECTED_CERTIFICATE',
          target: 'org.example',
          severity: 'critical',
          opened: at(20),
          observations: [],
          detail: 'cert 1',
        });
        const secondCert = await store.openIncident({ ...otherCert, detail: 'cert 2' });
        assert.notEqual(secondCert.id, otherCert.id);

        await store.closeIncident(missing.id, at(40), [5, 9]);
        await store.closeIncident(missing.id, at(50), [10]); // already closed: no change
        const all = await store.incidents();
        assert.deepEqual(
          all.map((i) => [i.type, i.target, i.opened]),
          [
            ['INCONSISTENT', 'b.example', at(10)],
            ['EMBLEM_MISSING', 'a.example', at(20)],
            ['CT_UNEXPECTED_CERTIFICATE', 'org.example', at(20)],
            ['CT_UNEXPECTED_CERTIFICATE', 'org.example', at(20)],
          ],
        );
        const closed = all.find((i) => i.id === missing.id)!;
        assert.equal(closed.closed, at(40));
        assert.deepEqual(closed.observations, [4, 5, 9]);

        assert.deepEqual((await store.incidents({ open: true })).map((i) => i.id), [earlier.id, otherCert.id, secondCert.id]);
        assert.deepEqual((await store.incidents({ open: false })).map((i) => i.id), [missing.id]);
        assert.deepEqual((await store.incidents({ target: 'a.example' })).map((i) => i.id), [missing.id]);
        assert.deepEqual(await store.incidents({ open: true, target: 'a.example' }), []);

        // Once closed, the same condition may open a new incident.
        const reopened = await store.openIncident({ ...missing, opened: at(60) });
        assert.notEqual(reopened.id, missing.id);
        assert.equal(reopened.closed, null);
      });
    });

    test('incidents: unknown id, bad type or severity are refused with stable codes', async () => {
      await withStore(async (store) => {
        await assert.rejects(store.closeIncident(12345, at(1)), code(StoreErrorCodes.STORE_INCIDENT_UNKNOWN));
        await assert.rejects(store.closeIncident(0, at(1)), code(StoreErrorCodes.STORE_INPUT_INVALID));
        const base: NewIncident = { type: 'EXPIRING', target: 'a.example', severity: 'warning', opened: at(1), observations: [], detail: '' };
        await assert.rejects(store.openIncident({ ...base, type: 'NOPE' as never }), code(StoreErrorCodes.STORE_INPUT_INVALID));
        await assert.rejects(store.openIncident({ ...base, severity: 'loud' as never }), code(StoreErrorCodes.STORE_INPUT_INVALID));
        await assert.rejects(
          store.openIncident({ ...base, detail: 'd'.repeat(StoreLimits.maxDetailBytes + 1) }),
          code(StoreErrorCodes.STORE_INPUT_INVALID),
        );
        assert.deepEqual(await store.incidents(), []);
      });
    });

    test('cursors: missing is undefined, set overwrites', async () => {
      await withStore(async (store) => {
        assert.equal(await store.getCursor('ct:log'), undefined);
        await store.setCursor('ct:log', '{"size":1}');
        await store.setCursor('ct:log', '{"size":2,"root":"ab"}');
        await store.setCursor('ct:other', '');
        assert.equal(await store.getCursor('ct:log'), '{"size":2,"root":"ab"}');
        assert.equal(await store.getCursor('ct:other'), '');
      });
    });

    test('property: any well-formed text round-trips unchanged through states, details and cursors', async () => {
      await withStore(async (store) => {
        const text = fc.string({ unit: 'grapheme', maxLength: 200 }).filter((s) => !s.includes('\u0000'));
        let n = 0;
        await fc.assert(
          fc.asyncProperty(text, text, async (state, detail) => {
            const target = `p${n++}.example`;
            await store.putTargetStates([{ target, state, updated: at(n) }]);
            assert.equal((await store.getTargetStates([target])).get(target)?.state, state);
            await store.setCursor(target, state);
            assert.equal(await store.getCursor(target), state);
            const i = await store.openIncident({ type: 'KEY_CHANGED', target, severity: 'info', opened: at(n), observations: [], detail });
            assert.equal((await store.incidents({ target }))[0]?.detail, detail);
            assert.equal(i.detail, detail);
          }),
          { numRuns: 40 },
        );
      });
    });

    test('a closed store refuses calls with STORE_CLOSED', async () => {
      const store = await openObservatoryStore(await backend.freshUrl());
      await store.close();
      await store.close(); // twice is fine
      await assert.rejects(store.incidents(), code(StoreErrorCodes.STORE_CLOSED));
      await assert.rejects(store.addObservations([{ target: 'a', time: at(0), vantagePoint: 'v', status: 's', leafIndex: null }]), code(StoreErrorCodes.STORE_CLOSED));
    });
  });
}
