import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLocalCa, issueCertificate } from '../../src/ct/local-ca.js';
import { toPem } from '../../src/ct/certificate.js';
import { parseConfig } from '../../src/org/config.js';
import { lint } from '../../src/org/lint/index.js';
import { emptyState, saveState } from '../../src/org/state.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../dns/servers.js';

const NOW = 1_793_534_400; // 2026-11-01T12:00:00Z
const b64 = (n: number) => Buffer.alloc(32, n).toString('base64');
const FAKE_LOG = JSON.stringify([{ ver: 'v1', id: b64(1), hash: b64(2) }]);

function jws(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'ES256', cty: 'adem-end', kid: 'x' })}.${enc(claims)}.${Buffer.alloc(64).toString('base64url')}`;
}

test('lint: a fixture with one instance of each finding yields exactly those codes, each with severity, message and fix', async () => {
  const dir = tempDir();
  try {
    const ca = await createLocalCa();
    // The binding certificate expires before emblems signed now would (lifetime 30d).
    const cert = await issueCertificate(ca, { dnsNames: ['hospital.example'], notBefore: new Date((NOW - 86400) * 1000), notAfter: new Date((NOW + 5 * 86400) * 1000) });
    writeFileSync(join(dir.path, 'chain.pem'), toPem(cert));
    writeFileSync(join(dir.path, 'log.json'), FAKE_LOG);
    writeFileSync(join(dir.path, 'endorsement.jws'), `# as dig prints it\n"adem-token=${jws({ key: 'k', iss: 'https://authority.example', sub: 'https://hospital.example', emb: { assets: ['clinic.hospital.example', '192.0.2.1', '[10.0.0.0/8]', '*.example.org', '[192.0.2.7]', '[104.16.1.1]'], wnd: 86400 } })}"\n`);
    writeFileSync(join(dir.path, 'zone.db'), '$ORIGIN hospital.example.\n$TTL 60\n@ SOA ns1 h 1 1 1 1 1\n@ NS ns1\nns1 A 192.0.2.7\nshop A 192.0.2.7\n');
    const fixture = `version: 1
organization: https://hospital.example
assets: [clinic.hospital.example, 192.0.2.1, "[10.0.0.0/8]", "*.example.org", "[192.0.2.7]", "[104.16.1.1]", other.example.net]
lifetime: 30d
ttl: 86400
keys: { root: { file: r.jwk }, emblem: { file: e.jwk } }
binding: { chain: chain.pem, log: log.json }
endorsements: [endorsement.jws]
channels: [{ url: "zonefile:zone.db" }]
`;
    const config = await parseConfig(fixture);
    const state = emptyState();
    state.assets['clinic.hospital.example'] = { withdrawn: false, current: { identifier: 'g1', signedAt: NOW, validFrom: NOW, validUntil: NOW + 1, records: Array.from({ length: 6 }, () => ({ name: 'clinic.hospital.example', type: 16, ttl: 60, rdata: '00'.repeat(300) })) }, pending: null, lastError: null, failures: 0, lastAttempt: null, lastVerified: null, channels: {} };
    const findings = await lint(dir.path, config, state, NOW);
    for (const f of findings) {
      assert.ok(f.message.length > 0 && f.fix.length > 0 && (f.severity === 'error' || f.severity === 'warning'), JSON.stringify(f));
    }
    const codes = findings.map((f) => f.code).sort();
    // One instance of each finding of the issue, each with its own code.
    assert.deepEqual(codes, [
      'ADDRESS_IN_CDN_RANGE', // [104.16.1.1] is in Cloudflare's published 104.16.0.0/13
      'ADDRESS_SHARED', // [192.0.2.7] is ns1 and shop in zone.db
      'ASSET_BARE_IP', // 192.0.2.1
      'ASSET_NOT_ENDORSED', // other.example.net is outside the endorsement's assets
      'ASSET_PREFIX_TOO_SHORT', // [10.0.0.0/8]
      'BINDING_EXPIRES_BEFORE_RENEWAL', // chain.pem ends in 5 days, emblems signed now last 30
      'LIFETIME_OVER_WINDOW', // lifetime 30d > the endorsement's wnd of 1 day
      'RRSET_TOO_LARGE', // six 300-byte TXT records
      'TTL_LINGERS', // ttl 86400 > the default lint.maxCacheSeconds 3600
      'WILDCARD_OUTSIDE_ORGANIZATION', // *.example.org
    ]);
    const severity = Object.fromEntries(findings.map((f) => [f.code, f.severity]));
    assert.deepEqual(severity, {
      ADDRESS_IN_CDN_RANGE: 'error',
      ADDRESS_SHARED: 'warning',
      ASSET_BARE_IP: 'error',
      ASSET_NOT_ENDORSED: 'warning',
      ASSET_PREFIX_TOO_SHORT: 'error',
      BINDING_EXPIRES_BEFORE_RENEWAL: 'warning',
      LIFETIME_OVER_WINDOW: 'error',
      RRSET_TOO_LARGE: 'warning',
      TTL_LINGERS: 'warning',
      WILDCARD_OUTSIDE_ORGANIZATION: 'error',
    });
    assert.match(findings.find((f) => f.code === 'BINDING_EXPIRES_BEFORE_RENEWAL')!.message, /expires at 2026-11-06T12:00:00\.000Z, before the next renewal \(2026-11-21T12:00:00\.000Z\)/);
    assert.match(findings.find((f) => f.code === 'ADDRESS_IN_CDN_RANGE')!.message, /Cloudflare's published range 104\.16\.0\.0\/13 \(list as of \d{4}-\d{2}-\d{2}\)/);
    // The same folder through the CLI: `org lint --json` gives the same findings, exit 1 (errors); text shows each fix.
    writeFileSync(join(dir.path, 'emblem-org.yaml'), fixture);
    await saveState(dir.path, state);
    const cli = await runCli(['org', 'lint', '--dir', dir.path, '--at', '2026-11-01T12:00:00Z', '--json']);
    assert.equal(cli.code, 1, cli.stderr);
    assert.deepEqual((JSON.parse(cli.stdout) as { findings: unknown[] }).findings, findings);
    const text = await runCli(['org', 'lint', '--dir', dir.path, '--at', '2026-11-01T12:00:00Z']);
    for (const f of findings) assert.ok(text.stdout.includes(`${f.severity.toUpperCase()} ${f.code}: ${f.message}\n  fix: ${f.fix}\n`), f.code);
    // Errors first.
    assert.equal(findings[0]!.severity, 'error');
    // lint.ignore drops codes.
    const ignored = await lint(dir.path, { ...config, lint: { ignore: ['ASSET_NOT_ENDORSED', 'ADDRESS_SHARED'] } }, state, NOW);
    assert.ok(!ignored.some((f) => f.code === 'ASSET_NOT_ENDORSED' || f.code === 'ADDRESS_SHARED'));
  } finally {
    dir.remove();
  }
});

const BASE = `version: 1
organization: https://hospital.example
keys: { root: { file: r.jwk }, emblem: { file: e.jwk } }
binding: { chain: chain.pem, log: log.json }
channels: [{ url: "octodns:x.yaml" }]
`;

async function codesFor(assets: string[], extra = ''): Promise<string[]> {
  const dir = tempDir();
  try {
    const ca = await createLocalCa();
    writeFileSync(join(dir.path, 'chain.pem'), toPem(await issueCertificate(ca, { dnsNames: ['hospital.example'], notBefore: new Date((NOW - 86400) * 1000), notAfter: new Date((NOW + 90 * 86400) * 1000) })));
    writeFileSync(join(dir.path, 'log.json'), FAKE_LOG);
    const config = await parseConfig(`${BASE}assets: ${JSON.stringify(assets)}\n${extra}`);
    return (await lint(dir.path, config, emptyState(), NOW)).map((f) => f.code).sort();
  } finally {
    dir.remove();
  }
}

test('lint prefixes: IPv4 under /16 and IPv6 under /32 by default, both configurable; longer prefixes pass', async () => {
  assert.deepEqual(await codesFor(['clinic.hospital.example', '[192.0.0.0/16]', '[2001:db8::/32]']), []);
  assert.deepEqual(await codesFor(['[192.0.0.0/15]', '[2001:db8::/31]']), ['ASSET_PREFIX_TOO_SHORT', 'ASSET_PREFIX_TOO_SHORT']);
  assert.deepEqual(await codesFor(['[192.0.2.0/24]', '[2001:db8::/40]'], 'lint: { minPrefixV4: 28, minPrefixV6: 48 }\n'), ['ASSET_PREFIX_TOO_SHORT', 'ASSET_PREFIX_TOO_SHORT']);
  assert.deepEqual(await codesFor(['[192.0.0.0/12]'], 'lint: { minPrefixV4: 8 }\n'), []);
});

test('lint CDN ranges: IPv4 and IPv6 addresses inside, and prefixes covering, a published CDN range; others pass', async () => {
  assert.deepEqual(await codesFor(['[151.101.1.69]']), ['ADDRESS_IN_CDN_RANGE'], 'Fastly');
  assert.deepEqual(await codesFor(['[2606:4700::6810:84e5]']), ['ADDRESS_IN_CDN_RANGE'], 'Cloudflare IPv6');
  assert.deepEqual(await codesFor(['[104.0.0.0/8]'], 'lint: { minPrefixV4: 8 }\n'), ['ADDRESS_IN_CDN_RANGE'], 'a prefix covering a CDN range');
  assert.deepEqual(await codesFor(['[192.0.2.10]', '[2001:db8::1]', '[104.32.0.1]']), []);
});

test('lint TTL: lingers past lint.maxCacheSeconds (configurable)', async () => {
  assert.deepEqual(await codesFor(['clinic.hospital.example'], 'ttl: 3600\n'), []);
  assert.deepEqual(await codesFor(['clinic.hospital.example'], 'ttl: 3600\nlint: { maxCacheSeconds: 600 }\n'), ['TTL_LINGERS']);
});

test('apply refuses lint errors (nothing written) and publishes with warnings (octoDNS channel)', { timeout: 60_000 }, async () => {
  const work = tempDir();
  try {
    const dir = join(work.path, 'org');
    const yaml = join(work.path, 'hospital.example.yaml');
    const init = await runCli(['org', 'init', '--dir', dir, '--org', 'https://hospital.example', '--asset', 'clinic.hospital.example', '--asset', '192.0.2.1', '--publish', `octodns:${yaml}`, '--ttl', '7200', '--yes']);
    assert.equal(init.code, 0, init.stderr);
    const ca = await createLocalCa();
    writeFileSync(join(work.path, 'chain.pem'), toPem(await issueCertificate(ca, { dnsNames: ['hospital.example'] })));
    writeFileSync(join(work.path, 'log.json'), FAKE_LOG);
    assert.equal((await runCli(['org', 'set-binding', '--dir', dir, '--chain', join(work.path, 'chain.pem'), '--log', join(work.path, 'log.json')])).code, 0);
    const lintOut = await runCli(['org', 'lint', '--dir', dir, '--at', '2026-11-01T12:00:00Z', '--json']);
    assert.equal(lintOut.code, 1);
    assert.deepEqual((JSON.parse(lintOut.stdout) as { findings: Array<{ code: string }> }).findings.map((f) => f.code), ['ASSET_BARE_IP', 'TTL_LINGERS']);
    const refused = await runCli(['org', 'apply', '--dir', dir, '--at', '2026-11-01T12:00:00Z', '--json']);
    assert.equal(refused.code, 1);
    assert.equal((JSON.parse(refused.stdout) as { refused: boolean }).refused, true);
    assert.equal(existsSync(yaml), false, 'nothing published');
    const cfg = join(dir, 'emblem-org.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/\n\s+- 192\.0\.2\.1/, ''));
    const applied = await runCli(['org', 'apply', '--dir', dir, '--at', '2026-11-01T12:00:00Z', '--json']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    assert.match(applied.stderr, /lint warning TTL_LINGERS/);
    const out = readFileSync(yaml, 'utf8');
    assert.match(out, /'clinic':/);
    assert.match(out, /adem-token-g1=/);
    assert.match(out, /ttl: 7200/);
  } finally {
    work.remove();
  }
});

test('lint RRset size: the whole answer (header, question, records, OPT), with two generations during a renewal', async () => {
  const { responseBytes } = await import('../../src/org/lint/rrset-size.js');
  // 12 header + (7+2) name + 4 question + (2+10+100) record + 11 OPT.
  assert.equal(responseBytes('x.example', [100]), 12 + 11 + 4 + 112 + 11);
  const withSet = (sizes: number[]) => {
    const state = emptyState();
    state.assets['clinic.hospital.example'] = { withdrawn: false, current: { identifier: 'g1', signedAt: NOW, validFrom: NOW, validUntil: NOW + 1, records: sizes.map((n) => ({ name: 'clinic.hospital.example', type: 16, ttl: 60, rdata: '00'.repeat(n) })) }, pending: null, lastError: null, failures: 0, lastAttempt: null, lastVerified: null, channels: {} };
    return state;
  };
  const config = await parseConfig(`${BASE}assets: [clinic.hospital.example]\n`);
  const { rrsetSize } = await import('../../src/org/lint/rrset-size.js');
  const ctx = (sizes: number[]) => ({ config, state: withSet(sizes) }) as unknown as Parameters<typeof rrsetSize.check>[0];
  assert.deepEqual(rrsetSize.check(ctx([250, 250])), [], '552 bytes, 1,100 during a renewal');
  const big = rrsetSize.check(ctx([300, 300]));
  assert.equal(big.length, 1);
  assert.match(big[0]!.message, /is 676 bytes, 1300 while a renewal publishes two generations \(> 1232\)/);
});

test('lint: a received endorsement that cannot be read is a config error naming the field (as apply would fail)', async () => {
  const dir = tempDir();
  try {
    const config = await parseConfig(`${BASE.replace(/binding:.*\n/, '')}assets: [clinic.hospital.example]\nendorsements: [missing.jws]\n`);
    await assert.rejects(lint(dir.path, config, emptyState(), NOW), (e: Error & { code: string }) => e.code === 'CONFIG_INVALID' && /config\.endorsements\[0\]: cannot read missing\.jws: ENOENT/.test(e.message));
  } finally {
    dir.remove();
  }
});
