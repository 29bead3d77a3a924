/**
 * Bounded memory with the evidence log on: the log holds every entry since its last checkpoint in memory, so the
 * service publishes checkpoints along a window (every checkpointEveryEntries entries, checked per batch) instead
 * of only at its end, and what is held never grows with the number of targets.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { skipCommitmentCheck } from '../../src/core/verify/commitment.js';
import { verifyMaterial } from '../../src/core/verify/index.js';
import { validateObserveConfig } from '../../src/observatory/config.js';
import { ObserveLimits } from '../../src/observatory/limits.js';
import { ObserveService, simulatedClock } from '../../src/observatory/service.js';
import { startEmblemServer, tempDir, type EmblemServer } from '../dns/servers.js';
import { MemoryEvidence, MemoryStore } from './fakes.js';
import { ORIGIN, T0, buildObserveWorld } from './world.js';

describe('observe: evidence held in memory is bounded by the checkpoint interval, not the target count', () => {
  let dir: { path: string; remove(): void };
  let emblem: EmblemServer | undefined;
  before(async () => {
    const world = await buildObserveWorld(1);
    dir = tempDir('emblem-observe-memory-');
    world.write(join(dir.path, 'emblem.zone'), 'steady', 1);
    emblem = await startEmblemServer([join(dir.path, 'emblem.zone')], ['--rrl-responses-per-second', '0']);
  });
  after(async () => {
    await emblem?.stop();
    dir?.remove();
  });

  it('1,600 targets (4 batches) with a checkpoint every 100 entries: never more than one batch unpublished', async () => {
    const targets = Array.from({ length: 1600 }, (_, i) => `n${i}.${ORIGIN}`);
    const config = validateObserveConfig(
      { targets: [`unused.${ORIGIN}`], vantagePoints: [{ name: 'emblem', resolver: `127.0.0.1:${emblem!.port}` }], windowSeconds: 600, database: 'sqlite::memory:', skipCommitmentCheck: true, era: 'jws', queryTimeoutMs: 1000 },
      join(dir.path, 'observe.yaml'),
    );
    const evidence = new MemoryEvidence();
    const service = new ObserveService({
      config, store: new MemoryStore(), evidence, clock: simulatedClock(T0), checkpointEveryEntries: 100,
      targets: async function* () {
        yield* targets;
      },
      verify: (material, _era, now) => verifyMaterial(material, { now, commitments: skipCommitmentCheck }),
    });
    const [summary] = await service.run(T0, { windows: 1 });
    assert.equal(summary!.observations, 1600);
    assert.equal(evidence.size, 1600);
    assert.ok(evidence.maxUnpublished <= ObserveLimits.batchSize, `held ${evidence.maxUnpublished} unpublished entries`);
    assert.ok(evidence.checkpoints >= 4, `${evidence.checkpoints} checkpoints`);
  });
});
