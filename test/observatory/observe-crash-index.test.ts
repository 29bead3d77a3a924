/**
 * kill -9 of `emblem observe` after a batch's index rows are written but before the window's checkpoint: the
 * evidence log reopens at its last published checkpoint and reuses the later leaf indexes, so the restarted
 * service must drop those index rows; afterwards every index row points at the leaf holding its observation.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { parseObservationRecord } from '../../src/evidence/replay.js';
import { TileTreeReader } from '../../src/evidence/tile-reader.js';
import { CLI, runCli } from '../helpers/cli.js';
import { startEmblemServer, tempDir, type EmblemServer } from '../dns/servers.js';
import { ORIGIN, T0, buildObserveWorld } from './world.js';

const at = (s: number) => new Date(T0.getTime() + s * 1000).toISOString();
const TARGETS = 1200; // more than one batch (ObserveLimits.batchSize 500) per window

type Row = { target: string; time: string; vantage_point: string; leaf_index: number | null };

describe('emblem observe: kill -9 between index rows and checkpoint', () => {
  let dir: { path: string; remove(): void };
  let emblem: EmblemServer | undefined;
  let config: string;

  before(async () => {
    const world = await buildObserveWorld(1);
    dir = tempDir('emblem-observe-crash-');
    world.write(join(dir.path, 'emblem.zone'), 'steady', 1);
    emblem = await startEmblemServer([join(dir.path, 'emblem.zone')], ['--rrl-responses-per-second', '0']);
    writeFileSync(join(dir.path, 'targets.txt'), Array.from({ length: TARGETS }, (_, i) => `n${i}.${ORIGIN}`).join('\n'));
    config = join(dir.path, 'observe.yaml');
    writeFileSync(config, `targetsFile: targets.txt
vantagePoints:
  - { name: emblem, resolver: "127.0.0.1:${emblem.port}" }
windowSeconds: 10
database: sqlite:state.sqlite
evidenceDir: evidence
skipCommitmentCheck: true
era: jws
queryTimeoutMs: 500
`);
  });
  after(async () => {
    await emblem?.stop();
    dir?.remove();
  });

  const published = () => {
    const f = join(dir.path, 'evidence', 'checkpoint');
    return existsSync(f) ? Number(readFileSync(f, 'utf8').split('\n')[1]) : 0;
  };
  const rows = (): Row[] => {
    const db = new Database(join(dir.path, 'state.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT target, time, vantage_point, leaf_index FROM observatory_observations').all() as Row[];
    } finally {
      db.close();
    }
  };
  /** Index rows pointing past the published checkpoint (entries the crash loses). */
  const beyond = () => {
    try {
      const size = published();
      return rows().filter((r) => r.leaf_index !== null && r.leaf_index >= size).length;
    } catch {
      return 0; // the database is not there yet, or busy
    }
  };

  it('after restart every index row points at the leaf that holds its observation', async () => {
    let stale = 0;
    for (let attempt = 0; attempt < 5 && stale === 0; attempt++) {
      const child = spawn(process.execPath, [CLI, 'observe', '--config', config, '--start-at', at(attempt * 1000)], { stdio: ['ignore', 'ignore', 'pipe'] });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      const deadline = performance.now() + 60_000;
      while (performance.now() < deadline && child.exitCode === null && beyond() === 0) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      await exited;
      stale = beyond();
    }
    assert.ok(stale > 0, 'the crash left index rows beyond the published checkpoint (the case under test)');

    const restarted = await runCli(['observe', '--config', config, '--start-at', at(10_000), '--windows', '1']);
    assert.equal(restarted.code, 0, restarted.stderr);
    const size = published();
    const reader = new TileTreeReader(join(dir.path, 'evidence'), size);
    const bundles = new Map<number, Uint8Array[]>();
    const all = rows();
    assert.ok(all.length >= TARGETS, 'the restarted window is indexed');
    for (const r of all) {
      if (r.leaf_index === null) continue;
      assert.ok(r.leaf_index < size, `row for ${r.target} at ${r.time} points at leaf ${r.leaf_index}, the log has ${size}`);
      const b = Math.floor(r.leaf_index / 256);
      if (!bundles.has(b)) bundles.set(b, await reader.entryBundle(b));
      const record = parseObservationRecord(bundles.get(b)![r.leaf_index % 256]!);
      assert.deepEqual([record.target, record.time, record.vantagePoint], [r.target, r.time, r.vantage_point], `leaf ${r.leaf_index}`);
    }
  });
});
