/**
 * After a kill -9 the evidence log reopens at its last published checkpoint, so an incident (and a target's pending
 * incident state) saved before the crash may name observation leaves that were never published and whose indexes
 * the log now reuses. At start-up the service drops those indexes and notes it in the incident.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeIncidentState, initialIncidentState } from '../../src/observatory/incidents.js';
import { validateObserveConfig } from '../../src/observatory/config.js';
import { ObserveService, simulatedClock } from '../../src/observatory/service.js';
import { openObservatoryStore } from '../../src/store/database/index.js';
import { MemoryEvidence } from './fakes.js';

const T0 = new Date('2026-03-01T00:00:00.000Z');

describe('observe start-up after a crash: incidents only name published observations', () => {
  it('drops incident leaf indexes >= the log size (noted in the detail) and the lost leaves pending in target states', async () => {
    const store = await openObservatoryStore('sqlite::memory:');
    await store.migrate();
    try {
      // Before the crash: the log had published 6 entries; the process had appended up to leaf 9 and stored these.
      const open = await store.openIncident({ type: 'EMBLEM_MISSING', target: 'a.test', severity: 'critical', opened: T0.toISOString(), observations: [2, 4, 7, 9], detail: 'ENDORSED-TRUSTED -> no-emblem' });
      const old = await store.openIncident({ type: 'KEY_CHANGED', target: 'b.test', severity: 'warning', opened: T0.toISOString(), observations: [0, 1], detail: 'keys' });
      const pending = { ...initialIncidentState(), held: { EMBLEM_MISSING: 1 }, evidence: { EMBLEM_MISSING: [5, 6, 8] } };
      await store.putTargetStates([{ target: 'c.test', state: encodeIncidentState(pending), updated: T0.toISOString() }]);

      const evidence = new MemoryEvidence();
      for (let i = 0; i < 6; i++) await evidence.append(new Uint8Array([i]));
      await evidence.publishCheckpoint();
      const log: Array<Record<string, unknown>> = [];
      // A vantage point that refuses at once (port 9 on loopback is closed): c.test's observations are errors, so
      // its machine neither advances nor clears the pending condition: only the repair changes its evidence.
      const config = validateObserveConfig(
        { targets: ['c.test'], vantagePoints: [{ name: 'none', resolver: '127.0.0.1:9' }], windowSeconds: 10, database: 'sqlite::memory:', skipCommitmentCheck: true, queryTimeoutMs: 50, queryAttempts: 1 },
        '/nonexistent/observe.yaml',
      );
      const service = new ObserveService({ config, store, evidence, verify: async () => { throw new Error('not reached'); }, clock: simulatedClock(T0), log: (l) => log.push(l) });
      await service.run(T0, { windows: 1 });

      const byId = new Map((await store.incidents()).map((i) => [i.id, i]));
      assert.deepEqual(byId.get(open.id)!.observations, [2, 4]);
      assert.match(byId.get(open.id)!.detail, /^ENDORSED-TRUSTED -> no-emblem \[repaired after a crash: observation leaves 7, 9 /);
      assert.deepEqual(byId.get(old.id)!.observations, [0, 1]);
      assert.equal(byId.get(old.id)!.detail, 'keys');
      assert.deepEqual(log.filter((l) => l.event === 'incident-repaired').map((l) => [l.id, l.size, l.dropped]), [[open.id, 6, [7, 9]]]);
      const state = JSON.parse((await store.getTargetStates(['c.test'])).get('c.test')!.state);
      assert.deepEqual(state.held, { EMBLEM_MISSING: 1 });
      assert.deepEqual(state.evidence.EMBLEM_MISSING, [5], 'leaves 6 and 8 (lost) are gone; the window\'s own error observation adds none');
    } finally {
      await store.close();
    }
  });
});
