import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, SHARED } from '../helpers/cli.js';

const interop = (p: string) => join(SHARED, 'interop', p);
const IN_WINDOW = '2026-06-17T00:10:00Z';

async function verifyJson(args: string[]) {
  const r = await runCli(['verify', '--json', ...args]);
  assert.ok(r.code === 0 || r.code === 1, `unexpected exit ${r.code}: ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) };
}

test('emblem.felixlinker.de DNS set: SIGNED, ORGANIZATIONAL, ENDORSED by auth.felixlinker.de', async () => {
  const { code, report } = await verifyJson(['--skip-commitment-check', '--at', IN_WINDOW, interop('dns/emblem.felixlinker.de.txt')]);
  assert.equal(code, 0);
  assert.equal(report.era, 'jws');
  assert.deepEqual(report.result, ['ENDORSED-UNTRUSTED']);
  assert.deepEqual(report.levels, ['SIGNED', 'ORGANIZATIONAL', 'ENDORSED']);
  assert.deepEqual(report.protected, ['[2a01:4f9:c010:d8e4::1]']);
  assert.equal(report.issuer, 'https://emblem.felixlinker.de');
  assert.deepEqual(report.endorsedBy, ['https://auth.felixlinker.de']);
  assert.equal(report.commitment, 'skipped');
  assert.deepEqual(report.errors, []);
});

test('emblem.felixlinker.de with the authority key trusted: ENDORSED-TRUSTED (valid as of now too)', async () => {
  for (const at of [IN_WINDOW, '2026-11-23T00:00:00Z']) {
    const { code, report } = await verifyJson([
      '--skip-commitment-check', '--at', at, '--trusted-key', interop('tokens/auth.felixlinker.de.pub.pem'), interop('dns/emblem.felixlinker.de.txt'),
    ]);
    assert.equal(code, 0);
    assert.deepEqual(report.result, ['ENDORSED-TRUSTED']);
  }
});

test('tokens/ (keys embedded as jwk headers): same structure and results as the DNS set', async () => {
  const files = ['emblem.jws', 'emblem.felixlinker.de.jws', 'auth.felixlinker.de.jws'].map((f) => interop(`tokens/${f}`));
  const plain = await verifyJson(['--skip-commitment-check', '--at', IN_WINDOW, ...files]);
  assert.deepEqual(plain.report.result, ['ENDORSED-UNTRUSTED']);
  assert.deepEqual(plain.report.endorsedBy, ['https://auth.felixlinker.de']);
  const trusted = await verifyJson(['--skip-commitment-check', '--at', IN_WINDOW, '--trusted-key', interop('tokens/auth.felixlinker.de.pub.pem'), ...files]);
  assert.deepEqual(trusted.report.result, ['ENDORSED-TRUSTED']);
});

test('emblem.redcross.org.uk: ORGANIZATIONAL (untrusted) in its window, INVALID (expired) now', async () => {
  const inWindow = await verifyJson(['--skip-commitment-check', '--at', IN_WINDOW, interop('dns/emblem.redcross.org.uk.txt')]);
  assert.equal(inWindow.code, 0);
  assert.deepEqual(inWindow.report.result, ['ORGANIZATIONAL-UNTRUSTED']);
  assert.deepEqual(inWindow.report.levels, ['SIGNED', 'ORGANIZATIONAL']);
  assert.deepEqual(inWindow.report.protected, ['adem.redcross.org.uk']);
  assert.equal(inWindow.report.issuer, 'https://redcross.org.uk');
  assert.deepEqual(inWindow.report.endorsedBy, []);
  // three tokens: emblem, intermediate endorsement, root endorsement
  assert.equal(inWindow.report.emblem.chain.length, 3);

  const now = await verifyJson(['--skip-commitment-check', '--at', '2026-11-23T00:00:00Z', interop('dns/emblem.redcross.org.uk.txt')]);
  assert.equal(now.code, 1);
  assert.deepEqual(now.report.result, ['INVALID']);
  assert.ok(now.report.errors.some((e: { code: string }) => e.code === 'TOKEN_EXPIRED'));
});

test('cyberstar.online: bracketed IPv4 assets, ORGANIZATIONAL (untrusted) in its window, INVALID now', async () => {
  const inWindow = await verifyJson(['--skip-commitment-check', '--at', IN_WINDOW, interop('dns/cyberstar.online.txt')]);
  assert.equal(inWindow.code, 0);
  assert.deepEqual(inWindow.report.result, ['ORGANIZATIONAL-UNTRUSTED']);
  assert.deepEqual(inWindow.report.protected, ['[185.230.63.171]', '[185.230.63.107]', '[185.230.63.186]', 'cyberstar.online']);
  assert.equal(inWindow.report.issuer, 'https://cyberstar.online');
  assert.deepEqual(inWindow.report.endorsedBy, []);

  const now = await verifyJson(['--skip-commitment-check', '--at', '2026-11-23T00:00:00Z', interop('dns/cyberstar.online.txt')]);
  assert.equal(now.code, 1);
  assert.deepEqual(now.report.result, ['INVALID']);
});

test('without --skip-commitment-check, commitments are checked and fail closed when no listed log has them', async () => {
  // An empty v3 log list keeps the test offline: every log the tokens point to is then unknown.
  const dir = mkdtempSync(join(tmpdir(), 'emblem-interop-'));
  const logList = join(dir, 'log_list.json');
  writeFileSync(logList, JSON.stringify({ version: '3.0', log_list_timestamp: '2026-11-01T00:00:00Z', operators: [] }));
  try {
    const { code, report } = await verifyJson(['--at', IN_WINDOW, '--log-list', logList, interop('dns/cyberstar.online.txt')]);
    assert.equal(code, 1);
    assert.deepEqual(report.result, ['INVALID']);
    assert.equal(report.commitment, 'failed');
    assert.ok(report.errors.some((e: { code: string }) => e.code === 'CT_LOG_UNKNOWN'), JSON.stringify(report.errors));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('emblem kid reproduces the kids the live tokens carry', async () => {
  const cases: Array<[string, string]> = [
    ['certs/emblem.pub.pem', 'emqrrujig34vt7kzvtobvxho75qntgsu6hiij54vasyusuhwgofa'],
    ['certs/emblem.pub.json', 'emqrrujig34vt7kzvtobvxho75qntgsu6hiij54vasyusuhwgofa'],
    ['certs/emblem.felixlinker.de.pub.pem', 'h32ycgpm2jxlgmhmtrnuv5rywsexxk3gwa45w3cmpzpyvkacdvka'],
    ['tokens/auth.felixlinker.de.pub.pem', '6d4ym5gslavhmz7u44x7mv4ycjzxhweslioeujuutnom5hp7hpnq'],
  ];
  for (const [file, kid] of cases) {
    const r = await runCli(['kid', interop(file)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), kid, file);
  }
});

test('the kid computed for every adem-key record of the live sets is the kid its tokens name', async () => {
  // cyberstar.online: the emblem header kid and the endorsement key claim (SPEC-NOTES §1.2)
  const text = readFileSync(interop('dns/cyberstar.online.txt'), 'utf8');
  assert.match(text, /adem-key=/);
  const { report } = await verifyJson(['--skip-commitment-check', '--at', IN_WINDOW, interop('dns/cyberstar.online.txt')]);
  assert.equal(report.emblem.kid, 'bthemxga4drn43pwksu2adbcum2m5de3qviqpun37z2mpye54n4a');
});
