/** Log lists from files and URLs: merging, the on-disk cache, max-age / no-store, stale copies when offline. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpClient, HttpResponse } from '../../src/ct/http.js';
import { clearLogListMemoryCache, loadLogLists } from '../../src/ct/log-list-source.js';
import { tempDir } from './fixtures.js';
import { freshEcKeyPair } from '../helpers/fresh-key-pair.js';

function listWith(description: string): { json: unknown; id: Uint8Array } {
  const key = freshEcKeyPair('prime256v1').publicKey.export({ type: 'spki', format: 'der' });
  const id = createHash('sha256').update(key).digest();
  return {
    id: new Uint8Array(id),
    json: { version: '3.0', operators: [{ name: 'op', logs: [{ description, log_id: id.toString('base64'), key: key.toString('base64'), url: 'https://log.example/ct/' }] }] },
  };
}

function server(body: () => unknown, cacheControl: string | null): { http: HttpClient; calls: () => number; fail: (v: boolean) => void } {
  let calls = 0;
  let failing = false;
  const http: HttpClient = async (): Promise<HttpResponse> => {
    calls++;
    if (failing) throw Object.assign(new Error('offline'), { code: 'CT_LOG_UNREACHABLE' });
    return { status: 200, body: new Uint8Array(Buffer.from(JSON.stringify(body()))), contentType: 'application/json', cacheControl };
  };
  return { http, calls: () => calls, fail: (v) => (failing = v) };
}

test('URL lists are cached on disk for max-age, re-fetched after it, and a stale copy is used when offline', async () => {
  const dir = tempDir();
  try {
    const a = listWith('log A');
    let now = 1_000_000;
    const s = server(() => a.json, 'max-age=60');
    const opts = { http: s.http, cacheDir: dir.path, now: () => now };
    const url = 'https://lists.example/a.json';
    assert.equal((await loadLogLists([url], opts)).find('rfc6962', a.id)?.description, 'log A');
    clearLogListMemoryCache();
    await loadLogLists([url], opts); // from disk
    assert.equal(s.calls(), 1);
    now += 61_000;
    await loadLogLists([url], opts);
    assert.equal(s.calls(), 2, 'expired: fetched again');
    now += 61_000;
    s.fail(true);
    const stale = await loadLogLists([url], opts);
    assert.equal(stale.find('rfc6962', a.id)?.description, 'log A');
    assert.match(stale.warnings.join('\n'), /cached copy/);
  } finally {
    clearLogListMemoryCache();
    dir.remove();
  }
});

test('no-store lists are never reused; files and URLs merge, first description wins', async () => {
  const dir = tempDir();
  try {
    const a = listWith('log A');
    const s = server(() => a.json, 'no-store');
    const url = 'https://lists.example/nostore.json';
    await loadLogLists([url], { http: s.http, cacheDir: dir.path });
    await loadLogLists([url], { http: s.http, cacheDir: dir.path });
    assert.equal(s.calls(), 2);
    const b = listWith('log B');
    const file = join(dir.path, 'b.json');
    writeFileSync(file, JSON.stringify(b.json));
    const merged = await loadLogLists([file, url], { http: s.http });
    assert.equal(merged.find('rfc6962', a.id)?.description, 'log A');
    assert.equal(merged.find('rfc6962', b.id)?.description, 'log B');
    await assert.rejects(loadLogLists([join(dir.path, 'missing.json')]), { code: 'CT_LOG_LIST_INVALID' });
    writeFileSync(join(dir.path, 'junk.json'), '{"operators": 5}');
    await assert.rejects(loadLogLists([join(dir.path, 'junk.json')]), { code: 'CT_LOG_LIST_INVALID' });
  } finally {
    clearLogListMemoryCache();
    dir.remove();
  }
});
