import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { runCli } from '../helpers/cli.js';
import { INTEROP_AT, INTEROP_DNS, writeInteropZone } from '../dns/fixtures.js';
import { tempDir } from '../dns/servers.js';
import { startListening, type Started } from './helpers.js';
import { testApp, tested } from './app-fixture.js';
import { EmblemError } from '../../src/core/errors.js';
import { skipCommitmentCheck } from '../../src/core/verify/commitment.js';

const FELIX = readFileSync(join(INTEROP_DNS, 'emblem.felixlinker.de.txt'), 'utf8');

describe('emblem serve API: verify and check answer what the CLI prints', () => {
  const dir = tempDir('emblem-api-');
  let app: FastifyInstance;
  let dns: Started<{ addresses: string[] }>;
  let resolver: string;

  before(async () => {
    ({ app } = await testApp());
    const zone = await writeInteropZone(dir.path);
    dns = await startListening(['dns', 'serve', '--zone', zone, '--listen', '127.0.0.1:0', '--rrl-responses-per-second', '0']);
    resolver = dns.listening.addresses[0]!;
  });
  after(async () => {
    await app?.close();
    await dns?.stop();
    dir.remove();
  });

  it('GET /api/health, /api/features', async () => {
    tested('GET /api/health');
    tested('GET /api/features');
    assert.deepEqual((await app.inject('/api/health')).json(), { ok: true });
    assert.deepEqual((await app.inject('/api/features')).json(), { org: false, authority: false, observatory: false });
  });

  it('POST /api/verify answers the `emblem verify --json` report for the same input', async () => {
    tested('POST /api/verify');
    for (const file of ['cyberstar.online.txt', 'emblem.felixlinker.de.txt', 'emblem.redcross.org.uk.txt']) {
      const text = readFileSync(join(INTEROP_DNS, file), 'utf8');
      const cli = await runCli(['verify', '--json', '--skip-commitment-check', '--at', INTEROP_AT], { input: text });
      const res = await app.inject({ method: 'POST', url: `/api/verify?at=${INTEROP_AT}&skipCommitmentCheck=true`, payload: text, headers: { 'content-type': 'text/plain' } });
      assert.equal(res.statusCode, 200);
      // Same report apart from where the input came from ("stdin" vs "request").
      const norm = (s: string) => JSON.parse(s.replaceAll('"stdin"', '"request"').replaceAll('stdin:', 'request:'));
      assert.deepEqual(norm(res.body), norm(cli.stdout), file);
    }
  });

  it('POST /api/verify: a JWK posted as application/json is read as text; empty input is a USAGE error', async () => {
    const jwk = '{\n "kty": "EC"\n}';
    const res = await app.inject({ method: 'POST', url: '/api/verify', payload: jwk, headers: { 'content-type': 'application/json' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().result[0], 'INVALID');
    const empty = await app.inject({ method: 'POST', url: '/api/verify', payload: '\n# nothing\n', headers: { 'content-type': 'text/plain' } });
    assert.equal(empty.statusCode, 400);
    assert.equal(empty.json().error.code, 'USAGE');
    const badAt = await app.inject({ method: 'POST', url: '/api/verify?at=yesterday', payload: FELIX, headers: { 'content-type': 'text/plain' } });
    assert.equal(badAt.statusCode, 400);
    assert.equal(badAt.json().error.code, 'USAGE');
  });

  it('GET /api/check answers the `emblem check --json` object for the same name and resolver', async () => {
    tested('GET /api/check');
    for (const name of ['emblem.felixlinker.de', 'cyberstar.online', 'empty.example', 'nothing-here.example']) {
      const cli = await runCli(['check', name, '--json', '--skip-commitment-check', '--at', INTEROP_AT, '--resolver', resolver, '--timeout', '1000', '--attempts', '1']);
      const res = await app.inject(`/api/check?name=${name}&resolver=${resolver}&at=${INTEROP_AT}&skipCommitmentCheck=true`);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), JSON.parse(cli.stdout), name);
    }
    // ?tokens=true is `--with-tokens`: the same object plus each set's token texts, which re-verify to the set's report.
    const cli = await runCli(['check', 'emblem.felixlinker.de', '--json', '--with-tokens', '--skip-commitment-check', '--at', INTEROP_AT, '--resolver', resolver, '--timeout', '1000', '--attempts', '1']);
    const withTokens = await app.inject(`/api/check?name=emblem.felixlinker.de&resolver=${resolver}&at=${INTEROP_AT}&skipCommitmentCheck=true&tokens=true`);
    assert.deepEqual(withTokens.json(), JSON.parse(cli.stdout));
    const set = withTokens.json().sets[0];
    assert.ok(set.tokens.length >= 2, 'the set carries its token texts');
    const again = await app.inject({ method: 'POST', url: `/api/verify?at=${INTEROP_AT}&skipCommitmentCheck=true`, payload: set.tokens.join('\n'), headers: { 'content-type': 'text/plain' } });
    assert.deepEqual(again.json().result, set.result);
    assert.deepEqual(again.json().levels, set.levels);
    const plain = await app.inject(`/api/check?name=emblem.felixlinker.de&resolver=${resolver}&at=${INTEROP_AT}&skipCommitmentCheck=true`);
    assert.equal(plain.json().sets[0].tokens, undefined, 'token texts only when asked for');
    const missing = await app.inject('/api/check');
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error.code, 'USAGE');
    const badName = await app.inject(`/api/check?name=${encodeURIComponent('a..b')}&resolver=${resolver}`);
    assert.equal(badName.statusCode, 400);
  });

  it('GET /api/ct/logs names the logs of the server\'s log list, and is empty when CT is not checked', async () => {
    tested('GET /api/ct/logs');
    assert.deepEqual((await app.inject('/api/ct/logs')).json(), { logs: [] });
    const log = { id: 'aGVsbG8gbG9nIGlkIDMyIGJ5dGVzIGxvbmcgeHh4eHg=', kind: 'tiled' as const, description: 'Test log', operator: 'Tests', url: 'http://127.0.0.1:9/' };
    const withLogs = await testApp({ verify: { trustedKeys: [], policy: 'spec', commitments: async () => skipCommitmentCheck, ctBundle: async () => null, ctLogs: async () => [log] } });
    try {
      assert.deepEqual((await withLogs.app.inject('/api/ct/logs')).json(), { logs: [log] });
    } finally {
      await withLogs.app.close();
    }
    const failing = await testApp({ verify: { trustedKeys: [], policy: 'spec', commitments: async () => skipCommitmentCheck, ctBundle: async () => null, ctLogs: async () => { throw new EmblemError('CT_LOG_LIST_UNAVAILABLE', 'no list') } } });
    try {
      const res = await failing.app.inject('/api/ct/logs');
      assert.equal(res.statusCode, 200, 'the names are a convenience: an unavailable list is not a failed request');
      assert.deepEqual(res.json(), { logs: [], error: { code: 'CT_LOG_LIST_UNAVAILABLE', message: 'no list' } });
    } finally {
      await failing.app.close();
    }
  });

  it('GET /api/openapi.json is an OpenAPI 3 document', async () => {
    tested('GET /api/openapi.json');
    const doc = (await app.inject('/api/openapi.json')).json();
    assert.match(doc.openapi, /^3\./);
    assert.ok(doc.paths['/api/check'].get);
  });

  it('scan jobs: submit names, watch progress, read JSON lines and CSV, cancel', async () => {
    tested('POST /api/scans');
    tested('GET /api/scans/{id}');
    tested('GET /api/scans/{id}/results');
    tested('DELETE /api/scans/{id}');
    const names = ['emblem.felixlinker.de', 'cyberstar.online', 'empty.example', 'nothing-here.example', 'not a name'];
    const res = await app.inject({ method: 'POST', url: '/api/scans', payload: { names, resolver, at: INTEROP_AT, skipCommitmentCheck: true } });
    assert.equal(res.statusCode, 202, res.body);
    const { id } = res.json();
    let status;
    for (let i = 0; i < 200; i++) {
      status = (await app.inject(`/api/scans/${id}`)).json();
      if (status.state === 'done') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(status.state, 'done');
    assert.equal(status.total, 5);
    assert.equal(status.done, 5);
    assert.equal(status.counts['no-emblem'], 1);
    const lines = (await app.inject(`/api/scans/${id}/results`)).body.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.index), [0, 1, 2, 3, 4]);
    const cli = await runCli(['check', 'emblem.felixlinker.de', '--json', '--skip-commitment-check', '--at', INTEROP_AT, '--resolver', resolver]);
    const { index: _i, ...first } = lines[0];
    assert.deepEqual(first, JSON.parse(cli.stdout));
    const csv = await app.inject(`/api/scans/${id}/results?format=csv`);
    assert.match(csv.headers['content-type'] as string, /^text\/csv/);
    assert.equal(csv.body.trim().split('\n').length, 6);
    assert.equal(csv.body.split('\n')[0], 'index,target,status,level,issuer,endorsers,error');
    // a text/plain body is one name per line; cancel it
    const text = await app.inject({ method: 'POST', url: '/api/scans', payload: 'a.example\n# comment\nb.example\n', headers: { 'content-type': 'text/plain' } });
    assert.equal(text.statusCode, 202);
    const cancelled = await app.inject({ method: 'DELETE', url: `/api/scans/${text.json().id}` });
    assert.equal(cancelled.statusCode, 200);
    assert.ok(['cancelled', 'done', 'running'].includes(cancelled.json().state));
    assert.equal((await app.inject('/api/scans/nope')).json().error.code, 'NOT_FOUND');
    const tooMany = await app.inject({ method: 'POST', url: '/api/scans', payload: { names: Array.from({ length: 10_001 }, (_, i) => `n${i}.example`) } });
    assert.ok([400, 413].includes(tooMany.statusCode));
    assert.equal((await app.inject({ method: 'POST', url: '/api/scans', payload: { names: [] } })).statusCode, 400);
  });
});

describe('emblem serve API: limits, headers, errors', () => {
  let app: FastifyInstance;
  before(async () => {
    ({ app } = await testApp());
  });
  after(async () => app?.close());

  it('a 10 MB body gets 413 with code LIMIT_EXCEEDED', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    for (const url of ['/api/verify', '/api/scans']) {
      const res = await app.inject({ method: 'POST', url, payload: big, headers: { 'content-type': 'text/plain' } });
      assert.equal(res.statusCode, 413, url);
      assert.equal(res.json().error.code, 'LIMIT_EXCEEDED');
    }
  });

  it('security headers and a strict CSP on every answer; no-store on the API', async () => {
    for (const url of ['/', '/check?name=x', '/api/health', '/api/nope']) {
      const res = await app.inject(url);
      assert.match(res.headers['content-security-policy'] as string, /default-src 'self'/);
      assert.doesNotMatch(res.headers['content-security-policy'] as string, /unsafe-inline|unsafe-eval/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'DENY');
    }
    assert.equal((await app.inject('/api/health')).headers['cache-control'], 'no-store');
  });

  it('unknown API paths and methods: 404 {error:{code,message}}, never HTML or a stack', async () => {
    for (const [method, url] of [['GET', '/api/nope'], ['POST', '/api/health'], ['PUT', '/api/check'], ['GET', '/nope.js']] as const) {
      const res = await app.inject({ method, url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().error.code, 'NOT_FOUND');
      assert.doesNotMatch(res.body, /at .*\.(ts|js):\d+/);
    }
  });

  it('fuzzed JSON and text bodies and query strings never get a 500 (fast-check)', async () => {
    const routes = ['/api/verify', '/api/scans'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(fc.json(), fc.string({ maxLength: 400 }), fc.jsonValue().map((v) => JSON.stringify(v))),
        fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded'),
        fc.string({ maxLength: 40 }),
        async (url, body, type, at) => {
          const res = await app.inject({ method: 'POST', url: `${url}?at=${encodeURIComponent(at)}`, payload: body, headers: { 'content-type': type } });
          assert.ok(res.statusCode < 500, `${url} ${type} ${JSON.stringify(body).slice(0, 80)} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
          if (res.statusCode >= 400) {
            assert.equal(typeof res.json().error.code, 'string');
            assert.doesNotMatch(res.body, /at .*\.(ts|js):\d+/);
          }
        },
      ),
      { numRuns: 300, seed: 1313 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), fc.string({ maxLength: 20 }), async (name, skip) => {
        const res = await app.inject(`/api/check?name=${encodeURIComponent(name)}&resolver=127.0.0.1:9&skipCommitmentCheck=${encodeURIComponent(skip)}&at=2026-06-17T00:10:00Z`);
        assert.ok(res.statusCode < 500, `${name} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
      }),
      { numRuns: 40, seed: 1314 },
    );
  });
});

describe('emblem serve: the dashboard files', () => {
  const dir = tempDir('emblem-web-');
  let app: FastifyInstance;
  before(async () => {
    mkdirSync(join(dir.path, 'assets'));
    writeFileSync(join(dir.path, 'index.html'), '<!doctype html><title>dash</title><script src="/assets/app.js"></script>');
    writeFileSync(join(dir.path, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir.path, 'assets', 'app.js.gz'), 'GZ');
    ({ app } = await testApp({ webRoot: dir.path }));
  });
  after(async () => {
    await app?.close();
    dir.remove();
  });

  it('serves files, page routes fall back to index.html, and never leaves the folder', async () => {
    for (const url of ['/', '/check', '/check?name=clinic.example', '/org', '/authority', '/observatory', '/observatory/targets/x', '/scan']) {
      const res = await app.inject(url);
      assert.equal(res.statusCode, 200, url);
      assert.match(res.body, /<title>dash<\/title>/);
      assert.match(res.headers['content-type'] as string, /^text\/html/);
    }
    const js = await app.inject('/assets/app.js');
    assert.equal(js.body, 'console.log(1)');
    assert.match(js.headers['content-type'] as string, /^text\/javascript/);
    const gz = await app.inject({ url: '/assets/app.js', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    for (const url of ['/../package.json', '/%2e%2e/package.json', '/assets/%2e%2e/%2e%2e/package.json', '/assets/..%2f..%2fpackage.json', '/%00']) {
      const res = await app.inject(url);
      assert.ok([400, 404].includes(res.statusCode), `${url} -> ${res.statusCode}`);
    }
  });
});
