// Acceptance 4 (issue 3): every `emblem check` status over real DNS on loopback, plus DoH (RFC 8484) and the
// system resolver path, and the guarantee that only the chosen resolver is asked.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { discoverEmblemRecords } from '../../src/dns/discovery.js';
import { normalizeUserName } from '../../src/dns/domain-name.js';
import { systemNameservers } from '../../src/dns/resolver.js';
import { cli, signCwtChain } from './fixtures.js';
import { CLI_VERIFY_AT } from '../helpers/cli.js';
import { startEmblemServer, tempDir, udpAsk, type EmblemServer } from './servers.js';

interface CheckJson {
  status: string;
  level: string | null;
  sets: Array<{ errors: Array<{ code: string }>; covered: boolean; protected: string[] }>;
  errors: Array<{ code: string }>;
  discovery: { resolver: string; transport: string; queries: unknown[] } | null;
}

async function check(args: string[]): Promise<{ code: number; json: CheckJson; stderr: string }> {
  const res = await cli(['check', '--skip-commitment-check', '--json', ...(args.includes('--at') ? [] : ['--at', CLI_VERIFY_AT]), ...args]);
  assert.ok(res.stdout.startsWith('{'), `no JSON: ${res.stderr}`);
  return { code: res.code, json: JSON.parse(res.stdout) as CheckJson, stderr: res.stderr };
}

describe('emblem check statuses over DNS on loopback (acceptance 4)', () => {
  const dir = tempDir();
  let server: EmblemServer;
  let silent: Socket;
  let silentPort: number;
  let doh: Server;
  let dohPort: number;
  const at = CLI_VERIFY_AT;

  before(async () => {
    const good = await signCwtChain(dir.path, 'good.example.org', { prefix: 'good-' });
    const other = await signCwtChain(dir.path, 'other.example.org', { prefix: 'other-' });
    const old = await signCwtChain(dir.path, 'old.example.org', { prefix: 'old-', notBefore: '2026-01-01T00:00:00Z', lifetime: '1d' });
    // A forged emblem: the last signature byte changed.
    const hex = readFileSync(good.emblem, 'utf8').trim();
    const forged = join(dir.path, 'forged.hex');
    writeFileSync(forged, `${hex.slice(0, -2)}${hex.slice(-2) === '00' ? '01' : '00'}\n`);
    const add = (name: string, files: string[]) => files.flatMap((f) => ['--add', `${name}=${f}`]);
    const chainFiles = (c: typeof good) => [c.emblem, c.endorsement, c.rootPub, c.emblemPub];
    const res = await cli([
      'dns', 'zone', '--origin', 'example.org', '--era', 'cwt', '--serial', '7',
      ...add('good.example.org', chainFiles(good)),
      ...add('notcovered.example.org', chainFiles(other)),
      ...add('old.example.org', chainFiles(old)),
      ...add('forged.example.org', [forged, good.endorsement, good.rootPub, good.emblemPub]),
      '--address', 'www.example.org=192.0.2.80',
    ]);
    assert.equal(res.code, 0, res.stderr);
    const zone = join(dir.path, 'status.zone');
    writeFileSync(zone, res.stdout);
    server = await startEmblemServer([zone]);

    // A "resolver" that never answers.
    silent = createSocket('udp4');
    silentPort = await new Promise<number>((r) => silent.bind(0, '127.0.0.1', () => r(silent.address().port)));

    // A minimal RFC 8484 DoH endpoint (plain HTTP on loopback) forwarding wire-format queries to the server.
    doh = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        if (req.method !== 'POST' || req.headers['content-type'] !== 'application/dns-message') {
          res.writeHead(415).end();
          return;
        }
        const answer = await udpAsk(server.port, Buffer.concat(chunks), 2_000);
        if (!answer) return void res.writeHead(504).end();
        res.writeHead(200, { 'content-type': 'application/dns-message' }).end(answer);
      });
    });
    dohPort = await new Promise<number>((r) => doh.listen(0, '127.0.0.1', () => r((doh.address() as { port: number }).port)));
  });

  after(async () => {
    await server?.stop();
    silent?.close();
    await new Promise((r) => doh?.close(r));
    dir.remove();
  });

  const viaServer = (name: string, extra: string[] = []) => check([name, '--resolver', `127.0.0.1:${server.port}`, '--at', at, ...extra]);

  test('protected', async () => {
    const { code, json } = await viaServer('good.example.org');
    assert.equal(json.status, 'protected');
    assert.equal(json.level, 'ORGANIZATIONAL-UNTRUSTED');
    assert.equal(code, 0);
  });

  test('nxdomain', async () => {
    const { code, json } = await viaServer('missing.example.org');
    assert.equal(json.status, 'nxdomain');
    assert.equal(json.sets.length, 0);
    assert.equal(code, 1);
  });

  test('no-emblem: the name exists without emblem records', async () => {
    const { code, json } = await viaServer('www.example.org');
    assert.equal(json.status, 'no-emblem');
    assert.equal(code, 1);
  });

  test('expired', async () => {
    const { code, json } = await viaServer('old.example.org');
    assert.equal(json.status, 'expired');
    assert.ok(json.sets[0]!.errors.some((e) => e.code === 'TOKEN_EXPIRED'));
    assert.equal(code, 1);
  });

  test('invalid signature', async () => {
    const { code, json } = await viaServer('forged.example.org');
    assert.equal(json.status, 'invalid');
    assert.ok(json.sets[0]!.errors.some((e) => e.code === 'SIGNATURE_INVALID'), JSON.stringify(json.sets[0]!.errors));
    assert.equal(code, 1);
  });

  test('not-covered: a valid emblem for another asset', async () => {
    const { code, json } = await viaServer('notcovered.example.org');
    assert.equal(json.status, 'not-covered');
    assert.equal(json.level, 'ORGANIZATIONAL-UNTRUSTED');
    assert.deepEqual(json.sets[0]!.protected, ['other.example.org']);
    assert.equal(json.sets[0]!.covered, false);
    assert.equal(code, 1);
  });

  test('error: the resolver times out', async () => {
    const { code, json } = await check(['good.example.org', '--resolver', `127.0.0.1:${silentPort}`, '--timeout', '300', '--attempts', '1']);
    assert.equal(json.status, 'error');
    assert.equal(json.errors[0]!.code, 'DNS_TIMEOUT');
    assert.equal(code, 2);
  });

  test('error: a hostile resolver answering with a compression-pointer loop is reported, not followed', async () => {
    const evil = createSocket('udp4');
    const port = await new Promise<number>((r) => evil.bind(0, '127.0.0.1', () => r(evil.address().port)));
    evil.on('message', (q, rinfo) => {
      // The question echoed, then an answer whose owner name is a pointer to itself, and a huge ANCOUNT.
      const answer = Buffer.concat([q.subarray(0, q.length - 11), Buffer.from([0xc0, 0, 0, 16, 0, 1, 0, 0, 0, 60, 0, 0])]);
      answer.writeUInt16BE(0x8180, 2);
      answer.writeUInt16BE(0xffff, 6);
      answer.writeUInt16BE(0, 10);
      const self = q.length - 11;
      answer[self] = 0xc0 | (self >> 8);
      answer[self + 1] = self & 0xff;
      evil.send(answer, rinfo.port, rinfo.address);
    });
    try {
      const { code, json } = await check(['good.example.org', '--resolver', `127.0.0.1:${port}`, '--timeout', '1000', '--attempts', '1']);
      assert.equal(json.status, 'error');
      assert.equal(json.errors[0]!.code, 'DNS_RESPONSE_MALFORMED');
      assert.equal(code, 2);
    } finally {
      evil.close();
    }
  });

  test('DNS-over-HTTPS (RFC 8484 wire format) brings IHLE records and reports transport "doh"', async () => {
    const { code, json } = await check(['good.example.org', '--doh', `http://127.0.0.1:${dohPort}/dns-query`, '--at', at]);
    assert.equal(json.status, 'protected');
    assert.equal(json.discovery!.transport, 'doh');
    assert.equal(code, 0);
  });

  test('a plain-HTTP DoH URL to a non-loopback host is refused (it would expose the query)', async () => {
    const res = await cli(['check', 'good.example.org', '--doh', 'http://192.0.2.1/dns-query']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /https/);
  });

  test('the system resolver is read from resolv.conf', async () => {
    const conf = join(dir.path, 'resolv.conf');
    writeFileSync(conf, `# test\nnameserver 127.0.0.1\noptions ndots:1\n`);
    // resolv.conf has no port syntax, so the file is checked on its own and discovery is pointed at the test port.
    assert.deepEqual(await systemNameservers(conf), [{ host: '127.0.0.1', port: 53 }]);
    const found = await discoverEmblemRecords(normalizeUserName('good.example.org'), {
      resolver: { kind: 'udp', host: '127.0.0.1', port: server.port },
      era: 'cwt',
      ihleType: 65400,
    });
    assert.equal(found.ihleRdatas.length, 4);
  });

  test('only the chosen resolver is asked: every discovery query shows up in its counters', async () => {
    const before = (await server.stats()).queries as number;
    const { json } = await viaServer('good.example.org');
    const afterCount = (await server.stats()).queries as number;
    assert.equal(afterCount - before, json.discovery!.queries.length);
  });
});
