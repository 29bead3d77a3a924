import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { tempDir } from '../dns/servers.js';
import { startListening, type Started } from './helpers.js';
import { testApp } from './app-fixture.js';

/** Sends raw bytes and resolves with what came back once the server closes the connection (or 'still open'). */
function raw(port: number, write: (sock: ReturnType<typeof connect>) => void, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port }, () => write(sock));
    let data = '';
    sock.on('data', (d) => (data += d));
    sock.on('error', () => undefined);
    sock.on('close', () => resolve(data));
    sock.setTimeout(waitMs, () => {
      sock.destroy();
      resolve('still open');
    });
  });
}

describe('emblem serve over real HTTP: slow and oversized clients, rate limit', () => {
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    ({ app } = await testApp({ timeouts: { headersMs: 1000, connectionMs: 2000 }, ratePerSecond: 5 }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  after(async () => app?.close());

  it('cuts off a slow-loris client that never finishes its headers', async () => {
    const out = await raw(port, (s) => s.write('GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: '), 8000);
    assert.notEqual(out, 'still open');
  });

  it('refuses a 10 MB declared body with 413 before reading it', async () => {
    const out = await raw(port, (s) => s.write('POST /api/verify HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 10485760\r\n\r\nabc'), 8000);
    assert.match(out, /^HTTP\/1\.1 413/);
    assert.match(out, /LIMIT_EXCEEDED/);
  });

  it('rate-limits one client address with 429 RATE_LIMITED and Retry-After', async () => {
    const statuses: number[] = [];
    let limited: Response | null = null;
    for (let i = 0; i < 80; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/api/health`);
      statuses.push(res.status);
      if (res.status === 429) {
        limited = res;
        break;
      }
      await res.arrayBuffer();
    }
    assert.ok(limited, 'no 429 within 80 requests');
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
  });
});

describe('emblem serve (the command)', () => {
  const dir = tempDir('emblem-serve-cli-');
  let server: Started<{ url: string; features: Record<string, boolean> }>;
  before(async () => {
    const config = join(dir.path, 'serve.yaml');
    writeFileSync(config, 'listen: 127.0.0.1:0\nrateLimit: 0\ntokens: tokens.json\n');
    server = await startListening(['serve', '--config', config, '--skip-commitment-check']);
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });

  it('prints its listening line, serves the API on loopback, and stops on SIGTERM', async () => {
    assert.match(server.listening.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(server.listening.features, { org: false, authority: false, observatory: false });
    const res = await fetch(`${server.listening.url}/api/health`);
    assert.deepEqual(await res.json(), { ok: true });
    await server.stop();
    assert.ok(server.child.exitCode === 0 || server.child.signalCode !== null);
  });
});
