// Issue 9 §7: small CLI mistakes users hit. Each test runs the built CLI as a user would; time is fixed by --at and
// --not-before, never read from the wall clock in an assertion.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { buildScanWorld } from '../scan/scan-fixture.js';
import { startDnsServer, tempDir, type RunningDnsServer } from '../scan/scan-helpers.js';
import { SCAN_AT } from '../scan/scan-fixture.js';

const tmp = tempDir('emblem-small-fixes-');
const file = (name: string) => join(tmp.dir, name);
const NOT_BEFORE = '2026-11-01T00:00:00Z';

before(async () => {
  for (const name of ['signer', 'endorsed']) {
    const run = await runCli(['keygen', '--alg', 'ES256', '--out', file(`${name}.jwk`), '--public-out', file(`${name}.pub.jwk`)], { env: { EMBLEM_PASSPHRASE: undefined } });
    assert.equal(run.code, 0, run.stderr);
  }
});

after(() => tmp.remove());

describe('--at / --not-before: impossible dates are refused, not rolled over', () => {
  test('verify --at 2026-02-30T00:00:00Z exits 2 and says it is not a date', async () => {
    const run = await runCli(['verify', '--at', '2026-02-30T00:00:00Z', '--skip-commitment-check'], { input: 'x\n' });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--at: 2026-02-30 is not a date/);
    assert.equal(run.stdout, '');
  });

  test('the 31st of a 30-day month, month 13 and 29 February of a common year are refused too', async () => {
    for (const at of ['2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2027-02-29', '2100-02-29T00:00:00Z']) {
      const run = await runCli(['verify', '--at', at, '--skip-commitment-check'], { input: 'x\n' });
      assert.equal(run.code, 2, at);
      assert.match(run.stderr, /--at/, at);
    }
    const sign = await runCli(['sign', 'emblem', '--key', file('signer.jwk'), '--asset', 'a.example', '--embed-key', '--not-before', '2026-06-31T00:00:00Z']);
    assert.equal(sign.code, 2);
    assert.match(sign.stderr, /--not-before: 2026-06-31 is not a date/);
  });

  test('real dates still work: 29 February of a leap year verifies a token', async () => {
    const sign = await runCli(['sign', 'emblem', '--key', file('signer.jwk'), '--asset', 'a.example', '--embed-key', '--not-before', '2028-02-01T00:00:00Z', '--lifetime', '60d']);
    assert.equal(sign.code, 0, sign.stderr);
    const run = await runCli(['verify', '--at', '2028-02-29T12:00:00Z', '--skip-commitment-check', '--json'], { input: sign.stdout });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).result, ['SIGNED-UNTRUSTED']);
  });
});

describe('sign: addresses without brackets and empty --log are refused', () => {
  test('--asset 192.0.2.1 exits 2 with "did you mean [192.0.2.1]"', async () => {
    const run = await runCli(['sign', 'emblem', '--key', file('signer.jwk'), '--asset', '192.0.2.1', '--embed-key', '--not-before', NOT_BEFORE]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /did you mean \[192\.0\.2\.1\]/);
    assert.equal(run.stdout, '');
  });

  test('prefixes and IPv6 get the same hint, on --asset and --constrain-asset; bracketed addresses are signed', async () => {
    const prefix = await runCli(['sign', 'emblem', '--key', file('signer.jwk'), '--asset', 'ok.example', '--asset', '198.51.100.0/24', '--embed-key', '--not-before', NOT_BEFORE]);
    assert.equal(prefix.code, 2);
    assert.match(prefix.stderr, /did you mean \[198\.51\.100\.0\/24\]/);
    const v6 = await runCli(['sign', 'endorsement', '--key', file('signer.jwk'), '--endorse', file('endorsed.pub.jwk'), '--constrain-asset', '2001:db8::/32', '--not-before', NOT_BEFORE]);
    assert.equal(v6.code, 2);
    assert.match(v6.stderr, /--constrain-asset 2001:db8::\/32: .*did you mean \[2001:db8::\/32\]/);
    const ok = await runCli(['sign', 'emblem', '--key', file('signer.jwk'), '--asset', '[192.0.2.1]', '--asset', '[2001:db8::/32]', '--embed-key', '--not-before', NOT_BEFORE]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('--log "", --log "[]" and a --log file holding [] are refused with where to get the entries', async () => {
    writeFileSync(file('empty-log.json'), '[]\n');
    writeFileSync(file('blank-log.json'), '\n');
    for (const log of ['', '[]', ' [ ] ', file('empty-log.json'), file('blank-log.json')]) {
      const run = await runCli([
        'sign', 'endorsement', '--key', file('signer.jwk'), '--endorse', file('endorsed.pub.jwk'),
        '--iss', 'https://org.example', '--sub', 'https://org.example', '--end', '--log', log, '--not-before', NOT_BEFORE,
      ]);
      assert.equal(run.code, 2, `--log ${JSON.stringify(log)}: ${run.stdout}`);
      assert.match(run.stderr, /emblem ct leafhash CHAIN\.pem/, JSON.stringify(log));
      assert.equal(run.stdout, '', JSON.stringify(log));
    }
  });

  test('a non-empty --log is still signed', async () => {
    const entry = { ver: 'v1', id: Buffer.alloc(32, 1).toString('base64'), hash: Buffer.alloc(32, 2).toString('base64') };
    const run = await runCli([
      'sign', 'endorsement', '--key', file('signer.jwk'), '--endorse', file('endorsed.pub.jwk'),
      '--iss', 'https://org.example', '--sub', 'https://org.example', '--end', '--log', JSON.stringify([entry]), '--not-before', NOT_BEFORE,
    ]);
    assert.equal(run.code, 0, run.stderr);
  });
});

describe('verify and kid say what is wrong with the input', () => {
  test('an empty file and empty standard input: "nothing was read", exit 2, no Result line', async () => {
    writeFileSync(file('empty.txt'), '');
    writeFileSync(file('comments.txt'), '# only a comment\n\n');
    for (const [args, input] of [[[file('empty.txt')], ''], [[], ''], [[file('comments.txt')], ''], [['--json'], '\n']] as const) {
      const run = await runCli(['verify', '--at', SCAN_AT, '--skip-commitment-check', ...args], { input });
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}`);
      assert.match(run.stderr, /nothing was read/);
      assert.doesNotMatch(run.stdout, /Result|INVALID/);
    }
  });

  test('input that is not empty but unreadable is still verified (INVALID, exit 1)', async () => {
    const run = await runCli(['verify', '--at', SCAN_AT, '--skip-commitment-check'], { input: 'not a token\n' });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /Result: INVALID/);
  });

  test('kid of an encrypted private key says it is encrypted', async () => {
    const key = await runCli(['keygen', '--alg', 'ES256', '--out', file('encrypted.jwk')], { env: { EMBLEM_PASSPHRASE: 'correct horse' } });
    assert.equal(key.code, 0, key.stderr);
    const run = await runCli(['kid', file('encrypted.jwk')]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /encrypted\.jwk is an encrypted private key/);
    assert.doesNotMatch(run.stderr, /not a PEM public key or a JWK/);
    // Other junk keeps the old message.
    writeFileSync(file('junk.txt'), 'a.b.c.d.e\n');
    const junk = await runCli(['kid', file('junk.txt')]);
    assert.equal(junk.code, 2);
    assert.match(junk.stderr, /not a PEM public key or a JWK/);
  });
});

describe('help follows subcommand paths', () => {
  test('emblem help sign emblem prints the help of sign emblem, not of sign', async () => {
    const run = await runCli(['help', 'sign', 'emblem']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Usage: emblem sign emblem \[options\]/);
    assert.match(run.stdout, /--asset <ai>/);
    const endorsement = await runCli(['help', 'sign', 'endorsement']);
    assert.match(endorsement.stdout, /^Usage: emblem sign endorsement/);
  });

  test('one level and none still work; an unknown path is a usage error', async () => {
    const sign = await runCli(['help', 'sign']);
    assert.equal(sign.code, 0);
    assert.match(sign.stdout, /^Usage: emblem sign \[options\] \[command\]/);
    const top = await runCli(['help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /^Usage: emblem \[options\] \[command\]/);
    const unknown = await runCli(['help', 'sign', 'nothing']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no command "sign nothing"/);
  });
});

describe('check: a token set that failed is labelled by what happened to it', () => {
  let server: RunningDnsServer;
  before(async () => {
    const world = await buildScanWorld(tmp.dir, 100, undefined, 7);
    server = await startDnsServer(world.zoneFiles, file('stats.json'));
  });
  after(async () => {
    await server?.stop();
  });

  const check = (name: string) => runCli(['check', '--resolver', server.address, '--at', SCAN_AT, '--skip-commitment-check', '--era', 'jws', name]);

  test('expired set: "expired", not "does not name this asset"', async () => {
    const run = await check('n0.ex.test');
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^n0\.ex\.test: EXPIRED/);
    assert.match(run.stdout, /Token set 1.*, expired:/);
    assert.doesNotMatch(run.stdout, /does not name this asset/);
  });

  test('set that fails verification: "does not verify"', async () => {
    const run = await check('n0.inv.test');
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^n0\.inv\.test: INVALID/);
    assert.match(run.stdout, /Token set 1.*, does not verify:/);
    assert.doesNotMatch(run.stdout, /does not name this asset/);
  });

  test('valid set for another asset: "does not name this asset"', async () => {
    const run = await check('n0.nc.test');
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^n0\.nc\.test: NOT COVERED/);
    assert.match(run.stdout, /Token set 1.*, does not name this asset:/);
  });
});
