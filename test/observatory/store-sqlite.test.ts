// The observatory store on SQLite: the shared suite (store-suite.ts) plus what only a file database has.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openObservatoryStore, parseStoreUrl, StoreErrorCodes } from '../../src/store/database/index.js';
import { SqliteObservatoryStore } from '../../src/store/database/sqlite.js';
import { runStoreSuite } from './store-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'emblem-store-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

runStoreSuite({
  name: 'sqlite',
  freshUrl: async () => `sqlite:${join(dir, `db${++files}.sqlite`)}`,
  async setSchemaVersion(url, version) {
    const db = new Database(url.slice('sqlite:'.length));
    db.prepare('UPDATE observatory_schema SET version = ?').run(version);
    db.close();
  },
});

test('sqlite: a file database is in WAL mode; sqlite::memory: works without a file', async () => {
  const path = join(dir, 'wal.sqlite');
  const store = await openObservatoryStore(`sqlite:${path}`);
  const probe = new Database(path, { readonly: true });
  assert.equal(probe.pragma('journal_mode', { simple: true }), 'wal');
  probe.close();
  await store.close();

  const memory = await openObservatoryStore('sqlite::memory:');
  await memory.setCursor('k', 'v');
  assert.equal(await memory.getCursor('k'), 'v');
  await memory.close();
});

test('sqlite: a file in a missing directory is STORE_UNAVAILABLE', async () => {
  await assert.rejects(openObservatoryStore(`sqlite:${join(dir, 'no', 'such', 'dir', 'x.sqlite')}`), (err: unknown) => {
    assert.equal((err as { code?: string }).code, StoreErrorCodes.STORE_UNAVAILABLE);
    return true;
  });
});

test('database URLs: sqlite and postgres forms are recognised, anything else is STORE_URL_INVALID', async () => {
  assert.deepEqual(parseStoreUrl('sqlite:/var/lib/emblem/observatory.sqlite'), { kind: 'sqlite', path: '/var/lib/emblem/observatory.sqlite' });
  assert.deepEqual(parseStoreUrl('sqlite:relative.db'), { kind: 'sqlite', path: 'relative.db' });
  assert.deepEqual(parseStoreUrl('sqlite::memory:'), { kind: 'sqlite', path: ':memory:' });
  assert.deepEqual(parseStoreUrl('postgres://u:p@db.example:5432/obs'), { kind: 'postgres', url: 'postgres://u:p@db.example:5432/obs' });
  assert.equal(parseStoreUrl('postgresql://u@/obs?host=/run/postgresql').kind, 'postgres');
  for (const bad of ['', 'sqlite:', 'mysql://x/y', '/tmp/x.sqlite', 'postgres:x', 'sqlite:a\u0000b']) {
    assert.throws(() => parseStoreUrl(bad), (err: unknown) => {
      assert.equal((err as { code?: string }).code, StoreErrorCodes.STORE_URL_INVALID, bad);
      assert.ok(!(err as Error).message.includes('p@db'), 'never echoes a password');
      return true;
    });
  }
  await assert.rejects(openObservatoryStore('redis://localhost'), (err: unknown) => (err as { code?: string }).code === StoreErrorCodes.STORE_URL_INVALID);
});

test('sqlite: a file locked by another writer past the busy timeout is STORE_UNAVAILABLE; the retry after it is released succeeds', async () => {
  const path = join(dir, 'locked.sqlite');
  const store = SqliteObservatoryStore.open(path, { busyTimeoutMs: 50 });
  await store.migrate();
  const other = new Database(path);
  const observation = { target: 'a.example', time: '2026-03-01T00:00:00.000Z', vantagePoint: 'vp', status: 'ok', leafIndex: 0 };
  try {
    other.exec('BEGIN IMMEDIATE'); // holds the write lock
    await assert.rejects(store.addObservations([observation]), (err: unknown) => {
      assert.equal((err as { code?: string }).code, StoreErrorCodes.STORE_UNAVAILABLE);
      return true;
    });
    other.exec('COMMIT');
    await store.addObservations([observation]);
    assert.equal((await store.observations('a.example', observation.time, observation.time)).length, 1);
  } finally {
    other.close();
    await store.close();
  }
});
