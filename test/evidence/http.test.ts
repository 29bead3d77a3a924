import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEvidenceLog, startEvidenceHttpServer, verifyCheckpoint, type EvidenceHttpServer } from '../../src/evidence/index.js';

let dir: string;
let server: EvidenceHttpServer;
let checkpoint: string;
const big = new Uint8Array(40_000).fill(0x41);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emblem-evidence-http-'));
  const log = await openEvidenceLog(dir, { origin: 'http.test/log', now: () => new Date('2026-11-01T12:00:00Z') });
  for (let i = 0; i < 300; i++) await log.append(i < 256 ? big : new TextEncoder().encode(`e${i}`));
  checkpoint = await log.publishCheckpoint();
  await log.close();
  // A file next to the log that must never be served, and one outside it.
  writeFileSync(join(dir, '..', `secret-${process.pid}`), 'secret');
  server = await startEvidenceHttpServer(dir, '127.0.0.1:0', { idleTimeoutMs: 300 });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(dir, '..', `secret-${process.pid}`), { force: true });
});

/** A raw HTTP/1.1 request, so paths reach the server exactly as written (fetch would normalise "..", "%2e"). */
function raw(request: string): Promise<{ status: number; headers: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1');
      resolve({ status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: all.subarray(split + 4) });
    });
  });
}
const get = (path: string) => raw(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);

describe('evidence HTTP server (read-only tlog-tiles)', () => {
  it('serves the checkpoint as text, no-cache', async () => {
    const r = await fetch(`${server.url}/checkpoint`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    const text = await r.text();
    assert.equal(text, checkpoint);
    const pub = await (await fetch(`${server.url}/observer.pub`)).text();
    assert.equal(verifyCheckpoint(text, pub.trim()).size, 300);
  });

  it('serves full tiles immutable and partial tiles briefly cacheable, as octet streams', async () => {
    const full = await fetch(`${server.url}/tile/0/000`);
    assert.equal(full.status, 200);
    assert.equal(full.headers.get('content-type'), 'application/octet-stream');
    assert.match(full.headers.get('cache-control')!, /immutable/);
    assert.equal((await full.arrayBuffer()).byteLength, 256 * 32);
    const partial = await fetch(`${server.url}/tile/0/001.p/44`);
    assert.equal(partial.status, 200);
    assert.doesNotMatch(partial.headers.get('cache-control')!, /immutable/);
    assert.equal((await partial.arrayBuffer()).byteLength, 44 * 32);
    const bundle = await fetch(`${server.url}/tile/entries/000`);
    assert.equal((await bundle.arrayBuffer()).byteLength, 256 * (40_000 + 2));
    assert.equal((await fetch(`${server.url}/tile/entries/001.p/44`)).status, 200);
    assert.equal((await fetch(`${server.url}/tile/1/000.p/1`)).status, 200);
    assert.equal((await fetch(`${server.url}/tile/0/001.p/45`)).status, 404);
    // A narrower partial tile (an older checkpoint's) is served as the prefix of the wider one on disk.
    const older = await fetch(`${server.url}/tile/0/001.p/3`);
    assert.equal(older.status, 200);
    const olderBytes = new Uint8Array(await older.arrayBuffer());
    const wider = new Uint8Array(await (await fetch(`${server.url}/tile/0/001.p/44`)).arrayBuffer());
    assert.deepEqual(olderBytes, wider.subarray(0, 3 * 32));
    const olderEntries = new Uint8Array(await (await fetch(`${server.url}/tile/entries/001.p/2`)).arrayBuffer());
    assert.equal(Buffer.from(olderEntries).toString('latin1'), '\x00\x04e256\x00\x04e257');
    const head = await fetch(`${server.url}/tile/0/000`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), String(256 * 32));
  });

  it('never leaves the log directory, never serves the private key, and 404s malformed paths', async () => {
    const hostile = [
      '/observer.key',
      '/../secret-' + process.pid,
      `/tile/../../secret-${process.pid}`,
      '/tile/0/../../observer.key',
      '/tile/%2e%2e/observer.key',
      '/tile/0/%2e%2e%2fobserver.key',
      '/tile/0/000/',
      '/tile/0/0',
      '/tile/0/x000/000',
      '/tile/0/000.p/0',
      '/tile/0/000.p/256',
      '/tile/0/000.p/007',
      '/tile/64/000',
      '/tile/01/000',
      '/tile/data/000',
      '/tile/entries/../observer.key',
      '//checkpoint',
      '/checkpoint/',
      '/tile\\0\\000',
      '/tile/0/000%00',
      `/tile/0/${'x999/'.repeat(60)}000`,
      '/tile/0/x999/x999/x999/x999/x999/999',
      '*',
    ];
    for (const path of hostile) {
      const r = await get(path);
      assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
      assert.ok(!r.body.toString('latin1').includes('PRIVATE'), `${path} leaked the key`);
      assert.ok(!r.body.toString('latin1').includes('secret'), `${path} leaked a file outside the log`);
    }
    const post = await raw('POST /checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    assert.equal(post.status, 405);
  });

  it('drops a client that never reads, and keeps serving others', async () => {
    const socket = connect(server.port, '127.0.0.1');
    socket.pause(); // never reads: the 10 MB entry bundle fills the socket buffers
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    socket.write('GET /tile/entries/000 HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = await fetch(`${server.url}/checkpoint`);
    assert.equal(r.status, 200);
    await r.text();
    // Well past the idle timeout (300 ms here), read what is left: the server gave up long before the end.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    let received = 0;
    const ended = new Promise<void>((resolve) => {
      socket.on('end', () => resolve());
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.resume();
    await ended;
    assert.ok(received < 256 * 40_002, `received ${received} bytes: the whole bundle was sent to a client that did not read`);
    socket.destroy();
  });

  it('reads the files fresh: a new checkpoint is served at once', async () => {
    const before = await (await fetch(`${server.url}/checkpoint`)).text();
    const log = await openEvidenceLog(dir, { now: () => new Date('2026-11-01T12:00:00Z') });
    await log.append(new TextEncoder().encode('one more'));
    const text = await log.publishCheckpoint();
    await log.close();
    const now = await (await fetch(`${server.url}/checkpoint`)).text();
    assert.notEqual(now, before);
    assert.equal(now, text);
    assert.equal(readFileSync(join(dir, 'checkpoint'), 'utf8'), text);
  });
});
