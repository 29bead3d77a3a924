import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuthorityConfig } from '../../src/authority/config.js';
import { lintAuthorityConfig, type AuthorityLintInput } from '../../src/authority/lint.js';
import { Registry, type EndorsementRecord } from '../../src/authority/registry.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../dns/servers.js';

const NOW = Date.parse('2026-11-01T12:00:00Z') / 1000;
const DAY = 86_400;

const good: AuthorityConfig = {
  version: 1,
  authority: 'https://authority.example',
  keys: { root: { file: 'keys/root.jwk' } },
  binding: { chain: 'binding/chain.pem', log: 'binding/log.json' },
  ctLogLists: ['https://ct.example/log_list.json'],
  lifetime: '30d',
  revocationWithin: '30d',
};
const input = (config: Partial<AuthorityConfig>, over: Partial<AuthorityLintInput> = {}): AuthorityLintInput => ({ config: { ...good, ...config }, now: NOW, active: [], rootKey: 'jwe', ...over });
const codes = (i: AuthorityLintInput) => lintAuthorityConfig(i).map((f) => `${f.severity}:${f.code}`);

function rec(id: string, expires: number): EndorsementRecord {
  return { id, organization: `https://${id}.example`, kid: id, coseKid: id, constraints: {}, issued: expires - 365 * DAY, expires, status: 'active', reason: null, revokedAt: null, issuedFile: `issued/${id}.json`, responseFile: null, requestFile: null, renewedFrom: null };
}

test('lint: a lifetime within the revocation policy, a CT log list, a binding and an encrypted key: no findings', () => {
  assert.deepEqual(codes(input({})), []);
  assert.deepEqual(codes(input({ lifetime: '7d' })), [], 'shorter than the policy is fine');
  assert.deepEqual(codes(input({}, { rootKey: 'pkcs11' })), []);
});

test('lint: a lifetime longer than the revocation policy is REVOCATION_SLOWER_THAN_POLICY, with the numbers and a fix', () => {
  const [f, ...rest] = lintAuthorityConfig(input({ lifetime: '365d', revocationWithin: '30d' }));
  assert.equal(rest.length, 0);
  assert.equal(f!.code, 'REVOCATION_SLOWER_THAN_POLICY');
  assert.equal(f!.severity, 'error');
  assert.match(f!.message, /365d \(365 days\).*30d \(30 days\).*no revocation list/);
  assert.match(f!.fix, /"lifetime" to at most 30d.*renew --all-expiring/);
  // The default lifetime (365d) counts when none is configured.
  assert.deepEqual(codes(input({ lifetime: undefined, revocationWithin: '90d' })), ['error:REVOCATION_SLOWER_THAN_POLICY']);
  assert.deepEqual(codes(input({ lifetime: '31d', revocationWithin: '30d' })), ['error:REVOCATION_SLOWER_THAN_POLICY'], 'one day over');
});

test('lint: no policy is a warning stating the effective revocation delay; bad durations and a lifetime over the CORE maximum are errors', () => {
  const [missing] = lintAuthorityConfig(input({ lifetime: '365d', revocationWithin: undefined }));
  assert.deepEqual([missing!.code, missing!.severity], ['REVOCATION_POLICY_MISSING', 'warning']);
  assert.match(missing!.message, /up to the endorsement lifetime, 365d/);
  assert.deepEqual(codes(input({ lifetime: '2000d', revocationWithin: undefined })), ['error:LIFETIME_OVER_MAX', 'warning:REVOCATION_POLICY_MISSING']);
  assert.deepEqual(codes(input({ lifetime: '2000d', revocationWithin: '3000d' })), ['error:LIFETIME_OVER_MAX']);
  assert.deepEqual(codes(input({ lifetime: 'a year' })), ['error:LIFETIME_INVALID']);
  assert.deepEqual(codes(input({ revocationWithin: 'soon' })), ['error:REVOCATION_POLICY_INVALID']);
});

test('lint: CT log list, commitment check, binding, key at rest; active endorsements outliving the policy', () => {
  assert.deepEqual(codes(input({ ctLogLists: undefined })), ['warning:CT_LOG_LIST_MISSING']);
  assert.deepEqual(codes(input({ ctLogLists: [] })), ['warning:CT_LOG_LIST_MISSING']);
  assert.deepEqual(codes(input({ verify: { skipCommitmentCheck: true } })), ['warning:COMMITMENT_CHECK_DISABLED']);
  assert.deepEqual(codes(input({ binding: undefined })), ['error:BINDING_MISSING']);
  assert.deepEqual(codes(input({}, { rootKey: 'jwk' })), ['warning:ROOT_KEY_UNENCRYPTED']);
  assert.deepEqual(codes(input({}, { rootKey: 'unreadable' })), ['error:ROOT_KEY_UNREADABLE']);
  // Granted with a longer --lifetime, or before the policy was tightened: those cannot be revoked in time.
  const outliving = lintAuthorityConfig(input({}, { active: [rec('a', NOW + 20 * DAY), rec('b', NOW + 200 * DAY), rec('c', NOW + 90 * DAY)] }));
  assert.deepEqual(outliving.map((f) => f.code), ['ISSUED_OUTLIVE_POLICY']);
  assert.match(outliving[0]!.message, /^2 active endorsement\(s\).*https:\/\/b\.example \(b\), on 2027-05-20T12:00:00\.000Z/);
});

test('emblem authority lint --dir D [--json]: findings with code, severity, message, fix; exit 1 on an error, 0 on warnings only', { timeout: 60_000 }, async () => {
  const work = tempDir('emblem-authority-lint-');
  try {
    const dir = join(work.path, 'authority');
    const env = { EMBLEM_PASSPHRASE: undefined, EMBLEM_CACHE_DIR: join(work.path, 'cache') };
    const at = new Date(NOW * 1000).toISOString();
    assert.equal((await runCli(['authority', 'init', '--dir', dir, '--authority', 'https://authority.example', '--yes'], { env })).code, 0);
    // Fresh folder: unencrypted key, no CT log list, no binding, no policy.
    const fresh = await runCli(['authority', 'lint', '--dir', dir, '--at', at, '--json'], { env });
    assert.equal(fresh.code, 1, fresh.stderr);
    const findings = (JSON.parse(fresh.stdout) as { findings: Array<{ code: string; severity: string; message: string; fix: string }> }).findings;
    assert.deepEqual(findings.map((f) => f.code).sort(), ['BINDING_MISSING', 'CT_LOG_LIST_MISSING', 'REVOCATION_POLICY_MISSING', 'ROOT_KEY_UNENCRYPTED']);
    for (const f of findings) assert.ok(f.message && f.fix && (f.severity === 'error' || f.severity === 'warning'));

    // Bind it, list a log, state a 30-day policy while keeping the 365-day lifetime.
    writeFileSync(join(work.path, 'chain.pem'), 'x\n');
    const log = JSON.stringify([{ ver: 'v1', id: Buffer.alloc(32, 1).toString('base64'), hash: Buffer.alloc(32, 2).toString('base64') }]);
    assert.equal((await runCli(['authority', 'set-binding', '--dir', dir, '--chain', join(work.path, 'chain.pem'), '--log', log], { env })).code, 0);
    const cfgPath = join(dir, 'emblem-authority.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as AuthorityConfig;
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, ctLogLists: ['https://ct.example/list.json'], revocationWithin: '30d' }));
    const slow = await runCli(['authority', 'lint', '--dir', dir, '--at', at], { env });
    assert.equal(slow.code, 1);
    assert.match(slow.stdout, /^ERROR REVOCATION_SLOWER_THAN_POLICY: endorsements live 365d/m);
    assert.match(slow.stdout, /^ {2}fix: /m);
    assert.match(slow.stdout, /^WARNING ROOT_KEY_UNENCRYPTED/m);

    // Lifetime fixed: only warnings left (exit 0); one endorsement granted earlier for a year is reported.
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, ctLogLists: ['https://ct.example/list.json'], revocationWithin: '30d', lifetime: '30d' }));
    const reg = Registry.open(dir, { now: NOW });
    reg.record(rec('old', NOW + 300 * DAY), { now: NOW, nonce: null, action: 'grant' });
    reg.close();
    const ok = await runCli(['authority', 'lint', '--dir', dir, '--at', at, '--json'], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((JSON.parse(ok.stdout) as { findings: Array<{ code: string }> }).findings.map((f) => f.code), ['ISSUED_OUTLIVE_POLICY', 'ROOT_KEY_UNENCRYPTED']);
    const help = await runCli(['authority', 'lint', '--help'], { env });
    assert.match(help.stdout, /revocation mechanism/);
  } finally {
    work.remove();
  }
});
