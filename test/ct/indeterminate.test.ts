/**
 * Issue 9 §2: "could not check" is not "INVALID". With no route to the CT log list or a log (simulated with a
 * closed loopback port or a local server answering 503/429; the internet is never contacted), the live
 * emblem.felixlinker.de set is indeterminate (exit 3, "commitment": "unavailable", no INVALID), and `check`/`scan`
 * say "indeterminate". Proven failures stay failures. A genuine set plus an appended validly self-signed emblem is
 * INVALID (MULTIPLE_EMBLEMS), and `check` reports it as "contested" with the genuine chain.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCli } from '../helpers/cli.js';
import { joinTxtPresentation } from '../../src/core/material/txt.js';
import { issueBindingCertificate, type LoggedCertificate } from '../../src/ct/local-ca.js';
import { fetchHttp, type HttpClient } from '../../src/ct/http.js';
import type { LogEntryJson } from '../../src/ct/leaf-hash.js';
import { checkerFor, request, startCaAndLog, tempDir, type CaAndLog } from './fixtures.js';
import { FELIX_ADDRESS, INTEROP_AT, INTEROP_DNS, writeInteropZone } from '../dns/fixtures.js';
import { startEmblemServer, type EmblemServer } from '../dns/servers.js';

const FELIX = join(INTEROP_DNS, 'emblem.felixlinker.de.txt');
const AT = INTEROP_AT;

let dir: ReturnType<typeof tempDir>;
let closedPort: number;
let unavailableServer: Server;
let unavailableUrl: string;
let dns: EmblemServer;
const env = () => ({ EMBLEM_CACHE_DIR: join(dir.path, 'cache'), EMBLEM_PASSPHRASE: undefined });
const file = (name: string) => join(dir.path, name);
const closedList = () => `http://127.0.0.1:${closedPort}/log_list.json`;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

before(async () => {
  dir = tempDir();
  // A port that was just free and is now closed: connections are refused.
  const probe = createServer();
  closedPort = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  // A list host that is up but unavailable.
  unavailableServer = createServer((_req, res) => {
    res.writeHead(503, { 'retry-after': '60' });
    res.end('service unavailable');
  });
  unavailableUrl = `http://127.0.0.1:${await listen(unavailableServer)}/log_list.json`;
  dns = await startEmblemServer([await writeInteropZone(dir.path)]);
});

after(async () => {
  await dns?.stop();
  await new Promise((resolve) => unavailableServer.close(resolve));
  dir.remove();
});

async function verifyJson(args: string[]) {
  const res = await runCli(['verify', '--json', '--at', AT, ...args], { env: env() });
  return { code: res.code, report: JSON.parse(res.stdout), stderr: res.stderr };
}

describe('commitment that cannot be checked: indeterminate, never INVALID', () => {
  for (const [what, list] of [
    ['log list on a closed port', () => closedList()],
    ['log list server answering 503', () => unavailableUrl],
    ['log list file that does not exist', () => file('no-such-list.json')],
  ] as const) {
    test(`verify emblem.felixlinker.de, ${what}: exit 3, SIGNED-UNTRUSTED, "commitment": "unavailable"`, async () => {
      const { code, report } = await verifyJson(['--log-list', list(), FELIX]);
      assert.equal(code, 3, JSON.stringify(report.errors));
      assert.deepEqual(report.result, ['SIGNED-UNTRUSTED']);
      assert.ok(!report.result.includes('INVALID'));
      assert.equal(report.commitment, 'unavailable');
      assert.deepEqual(report.levels, ['SIGNED']);
      assert.deepEqual(report.protected, [`[${FELIX_ADDRESS}]`]);
      const levels = report.notEstablished.map((n: { level: string }) => n.level);
      assert.deepEqual(levels, ['ORGANIZATIONAL', 'ENDORSED']);
      assert.ok(report.notEstablished[0].codes.length > 0);
      for (const c of report.notEstablished[0].codes) assert.match(c, /^CT_LOG_(UNREACHABLE|LIST_INVALID)$/);
      assert.ok(!report.errors.some((e: { code: string }) => e.code === 'COMMITMENT_FAILED'), JSON.stringify(report.errors));
    });
  }

  test('the text report says what could not be checked and how to check it, and never "not committed"', async () => {
    const res = await runCli(['verify', '--at', AT, '--log-list', closedList(), FELIX], { env: env() });
    assert.equal(res.code, 3);
    assert.match(res.stdout, /^Result: SIGNED-UNTRUSTED/m);
    assert.match(res.stdout, /Root-key commitment: COULD NOT BE CHECKED/);
    assert.match(res.stdout, /Could not check the Certificate Transparency commitment \(CT_LOG_UNREACHABLE\).*--log-list.*--ct-bundle/);
    assert.match(res.stdout, /Not established: ORGANIZATIONAL \(CT_LOG_UNREACHABLE\)/);
    assert.doesNotMatch(res.stdout, /INVALID|FAILED|not committed/);
  });

  test('check emblem.felixlinker.de through a local DNS server: "status": "indeterminate", exit 3', async () => {
    const res = await runCli(['check', 'emblem.felixlinker.de', '--resolver', `127.0.0.1:${dns.port}`, '--at', AT, '--log-list', closedList(), '--json'], { env: env(), timeoutMs: 60_000 });
    assert.equal(res.code, 3, res.stdout + res.stderr);
    const report = JSON.parse(res.stdout);
    assert.equal(report.status, 'indeterminate');
    assert.equal(report.level, 'SIGNED-UNTRUSTED');
    assert.equal(report.sets[0].commitment, 'unavailable');
    assert.equal(report.sets[0].notEstablished[0].level, 'ORGANIZATIONAL');
    assert.deepEqual(report.sets[0].notEstablished[0].codes, ['CT_LOG_UNREACHABLE']);
    const text = await runCli(['check', 'emblem.felixlinker.de', '--resolver', `127.0.0.1:${dns.port}`, '--at', AT, '--log-list', closedList()], { env: env(), timeoutMs: 60_000 });
    assert.equal(text.code, 3);
    assert.match(text.stdout, /^emblem\.felixlinker\.de: INDETERMINATE: .*could not be checked; proven level SIGNED-UNTRUSTED$/m);
  });

  test('scan (ZDNS answers, no query sent): indeterminate,SIGNED-UNTRUSTED,...,CT_LOG_UNREACHABLE, not invalid', async () => {
    const txt = readFileSync(FELIX, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map(joinTxtPresentation);
    const answers = txt.map((answer) => ({ ttl: 3600, type: 'TXT', class: 'IN', name: 'emblem.felixlinker.de', answer }));
    // The address asset needs the name's addresses; with ZDNS input they come from the answers.
    answers.push({ ttl: 3600, type: 'AAAA', class: 'IN', name: 'emblem.felixlinker.de', answer: FELIX_ADDRESS });
    const zdns = file('felix.zdns.jsonl');
    writeFileSync(zdns, `${JSON.stringify({ name: 'emblem.felixlinker.de', class: 'IN', status: 'NOERROR', data: { answers } })}\n`);
    for (const output of ['jsonl', 'csv'] as const) {
      const res = await runCli(['scan', '--input', zdns, '--format', 'zdns', '--output', output, '--workers', '0', '--no-progress', '--json', '--at', AT, '--log-list', closedList()], { env: env(), timeoutMs: 60_000 });
      assert.equal(res.code, 0, res.stderr);
      if (output === 'jsonl') {
        const row = JSON.parse(res.stdout.trim().split('\n')[0]!);
        assert.equal(row.status, 'indeterminate', JSON.stringify(row));
        assert.equal(row.level, 'SIGNED-UNTRUSTED');
        assert.equal(row.sets[0].commitment, 'unavailable');
      } else {
        const row = res.stdout.trim().split('\n').find((l) => l.startsWith('0,'));
        assert.equal(row, '0,emblem.felixlinker.de,indeterminate,SIGNED-UNTRUSTED,https://emblem.felixlinker.de,,CT_LOG_UNREACHABLE');
      }
      const summary = JSON.parse(res.stderr.trim().split('\n').pop()!);
      assert.deepEqual(summary.byStatus, { indeterminate: 1 });
    }
  });
});

describe('a genuine set plus an appended validly self-signed emblem: INVALID for the spec, contested for the validator', () => {
  let contestedSet: string;
  let contestedDns: EmblemServer;

  before(async () => {
    const run = async (args: string[]) => {
      const res = await runCli(args, { env: env() });
      assert.equal(res.code, 0, `emblem ${args.join(' ')}: ${res.stderr}`);
      return res.stdout;
    };
    await run(['keygen', '--out', file('intruder.jwk'), '--public-out', file('intruder.pub.jwk')]);
    const intruder = await run([
      'sign', 'emblem', '--key', file('intruder.jwk'), '--asset', `[${FELIX_ADDRESS}]`, '--embed-key',
      '--not-before', '2026-06-01T00:00:00Z', '--lifetime', '60d',
    ]);
    contestedSet = file('contested.txt');
    writeFileSync(contestedSet, `${readFileSync(FELIX, 'utf8').trimEnd()}\n${intruder.trim()}\n`);
    const zone = await runCli([
      'dns', 'zone', '--origin', '.', '--serial', '2026112301',
      '--add', `emblem.felixlinker.de=${contestedSet}`,
      '--address', `emblem.felixlinker.de=${FELIX_ADDRESS}`,
    ], { env: env() });
    assert.equal(zone.code, 0, zone.stderr);
    writeFileSync(file('contested.zone'), zone.stdout);
    contestedDns = await startEmblemServer([file('contested.zone')]);
  });

  after(async () => {
    await contestedDns?.stop();
  });

  test('verify: INVALID with MULTIPLE_EMBLEMS, exit 1, and the genuine chain as a contested candidate', async () => {
    const { code, report } = await verifyJson(['--skip-commitment-check', contestedSet]);
    assert.equal(code, 1);
    assert.deepEqual(report.result, ['INVALID']);
    assert.ok(report.errors.some((e: { code: string }) => e.code === 'MULTIPLE_EMBLEMS'));
    assert.equal(report.contested.length, 1);
    assert.deepEqual(report.contested[0].result, ['ENDORSED-UNTRUSTED']);
    assert.equal(report.contested[0].issuer, 'https://emblem.felixlinker.de');
    assert.equal(report.contested[0].emblem.chain.length >= 2, true);
    // The genuine set alone gives the same chain.
    const alone = await verifyJson(['--skip-commitment-check', FELIX]);
    assert.deepEqual(report.contested[0].emblem.chain, alone.report.emblem.chain);
  });

  test('check: "status": "contested" with the valid chain in the JSON and text report', async () => {
    const res = await runCli(['check', 'emblem.felixlinker.de', '--resolver', `127.0.0.1:${contestedDns.port}`, '--at', AT, '--skip-commitment-check', '--json'], { env: env(), timeoutMs: 60_000 });
    assert.equal(res.code, 1, res.stderr);
    const report = JSON.parse(res.stdout);
    assert.equal(report.status, 'contested');
    assert.equal(report.level, 'ENDORSED-UNTRUSTED');
    assert.deepEqual(report.sets[0].result, ['INVALID']);
    assert.deepEqual(report.sets[0].contestedCoveredBy, { candidate: 0, asset: `[${FELIX_ADDRESS}]`, via: 'address', address: FELIX_ADDRESS });
    assert.ok(report.sets[0].contested[0].emblem.chain.length >= 2);
    const text = await runCli(['check', 'emblem.felixlinker.de', '--resolver', `127.0.0.1:${contestedDns.port}`, '--at', AT, '--skip-commitment-check'], { env: env(), timeoutMs: 60_000 });
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^emblem\.felixlinker\.de: CONTESTED: .*MULTIPLE_EMBLEMS.*proven level ENDORSED-UNTRUSTED$/m);
    assert.match(text.stdout, /Contested: the set holds more than one valid emblem/);
    assert.match(text.stdout, /^Token set 1, jws era, INVALID, but its contested emblem \S+ covers this name through asset \[2a01:/m);
    assert.doesNotMatch(text.stdout, /does not name this asset/);
    assert.match(text.stdout, /ENDORSED-UNTRUSTED: emblem \S+ by https:\/\/emblem\.felixlinker\.de/);
    assert.match(text.stdout, /Chain: \S+ -> \S+/);
  });

  test('scan: contested,ENDORSED-UNTRUSTED with the covering emblem\'s issuer and endorser in CSV', async () => {
    writeFileSync(file('contested-names.txt'), 'emblem.felixlinker.de\n');
    const res = await runCli(
      ['scan', '--input', file('contested-names.txt'), '--resolver', `127.0.0.1:${contestedDns.port}`, '--output', 'csv', '--workers', '0', '--no-progress', '--json', '--at', AT, '--skip-commitment-check'],
      { env: env(), timeoutMs: 60_000 },
    );
    assert.equal(res.code, 0, res.stderr);
    const row = res.stdout.trim().split('\n').find((l) => l.startsWith('0,'));
    assert.equal(row, '0,emblem.felixlinker.de,contested,ENDORSED-UNTRUSTED,https://emblem.felixlinker.de,https://auth.felixlinker.de,MULTIPLE_EMBLEMS');
  });

  test('two self-signed emblems without issuer: plain invalid, nothing contested', async () => {
    const run = async (args: string[]) => (await runCli(args, { env: env() })).stdout;
    const a = await run(['sign', 'emblem', '--key', file('intruder.jwk'), '--asset', 'a.example', '--embed-key', '--not-before', '2026-06-01T00:00:00Z']);
    const b = await run(['sign', 'emblem', '--key', file('intruder.jwk'), '--asset', 'b.example', '--embed-key', '--not-before', '2026-06-01T00:00:00Z']);
    writeFileSync(file('two.txt'), a + b);
    const { code, report } = await verifyJson(['--skip-commitment-check', file('two.txt')]);
    assert.equal(code, 1);
    assert.deepEqual(report.result, ['INVALID']);
    assert.equal(report.contested, undefined);
  });
});

describe('the commitment checker: could-not-check vs proven failure', () => {
  const HOST = 'hospital.example';
  const KID = 'n5e6i7nfwq3k2ymzttu7ynlu3ouhb2dmazwxhsjvchd6zwd5wfha';
  let ca: CaAndLog;
  let bound: LoggedCertificate;

  before(async () => {
    ca = await startCaAndLog();
    bound = await issueBindingCertificate(ca.ca, ca.log.url, { host: HOST, kid: KID });
  });
  after(async () => {
    await ca.log.close();
  });

  /** The log list is served, every log endpoint answers `status`. */
  const logAnswers = (status: number): HttpClient => async (url, req) =>
    url.endsWith('log_list.json') ? fetchHttp(url, req) : { status, body: new Uint8Array(), contentType: 'text/plain', cacheControl: null };

  const outcome = async (logs: LogEntryJson[], extra = {}) => {
    const o = await checkerFor([ca.log.logListUrl], extra).check(request(HOST, KID, logs, new Date(AT)));
    return { status: o.status, codes: o.errors.map((e) => e.code) };
  };

  test('a log answering 503 or 429 (rate limit): unavailable, CT_LOG_UNREACHABLE', async () => {
    for (const status of [503, 429]) {
      assert.deepEqual(await outcome([bound.v1], { http: logAnswers(status) }), { status: 'unavailable', codes: ['CT_LOG_UNREACHABLE'] });
      assert.deepEqual(await outcome([bound.static], { http: logAnswers(status) }), { status: 'unavailable', codes: ['CT_LOG_UNREACHABLE'] });
    }
  });

  test('an entry absent from a log whose tree head verified stays a proven failure', async () => {
    const missing = { ...bound.v1, hash: randomBytes(32).toString('base64') } as LogEntryJson;
    assert.deepEqual(await outcome([missing]), { status: 'failed', codes: ['CT_LEAF_NOT_FOUND'] });
  });

  test('policies over mixed entries: a proven failure wins under "all"; one verified entry suffices under "any"', async () => {
    const missing = { ...bound.v1, hash: randomBytes(32).toString('base64') } as LogEntryJson;
    const down: HttpClient = async (url, req) => (url.includes('/tile/') || url.endsWith('/checkpoint') ? logAnswers(503)(url, req) : fetchHttp(url, req));
    // v1 verifies, static cannot be checked.
    assert.equal((await outcome([bound.v1, bound.static], { http: down })).status, 'unavailable');
    assert.equal((await outcome([bound.v1, bound.static], { http: down, policy: 'any' })).status, 'verified');
    // v1 is proven absent, static cannot be checked.
    assert.equal((await outcome([missing, bound.static], { http: down })).status, 'failed');
    assert.equal((await outcome([missing, bound.static], { http: down, policy: 'any' })).status, 'unavailable');
  });
});

test('a scan remembers proven outcomes for the whole scan, "could not check" only for a minute', async () => {
  const { CachingCommitmentChecker } = await import('../../src/validator/commitment-cache.js');
  const { ScanLimits } = await import('../../src/validator/limits.js');
  const answers = ['unavailable', 'verified'] as const;
  let calls = 0;
  const inner = { check: async () => ({ status: answers[Math.min(calls++, 1)]!, errors: [] }) };
  let clock = 1_000_000;
  const checker = new CachingCommitmentChecker(inner, () => clock);
  const req = {
    era: 'jws' as const, issuer: 'https://org.example', host: 'org.example', kid: 'k', publicKey: { kty: 'EC' },
    logs: [{ ver: 'v1' as const, id: new Uint8Array(32).fill(1), hash: new Uint8Array(32).fill(2) }], now: new Date(0),
  };
  assert.equal((await checker.check(req)).status, 'unavailable');
  clock += ScanLimits.unavailableCommitmentRetryMs - 1;
  assert.equal((await checker.check(req)).status, 'unavailable');
  assert.equal(calls, 1, 'within the retry interval the log is not asked again');
  clock += 2;
  assert.equal((await checker.check(req)).status, 'verified');
  clock += 10 * ScanLimits.unavailableCommitmentRetryMs;
  assert.equal((await checker.check(req)).status, 'verified');
  assert.equal(calls, 2);
});
