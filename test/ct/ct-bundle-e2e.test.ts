/**
 * Offline validation (issue 9 §2, draft-ietf-diem-requirements: offline validation must not be ruled out):
 * `emblem ct prefetch` collects, while the local CT log runs, what the sets' commitments need; the log is then
 * stopped and `emblem verify|scan --ct-bundle` still verifies every commitment, with no network, and reports the
 * bundle's age. What the bundle lacks is "could not check" (exit 3), never INVALID.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, runCli } from '../helpers/cli.js';
import { createLocalCa, issueBindingCertificate, type LocalCa } from '../../src/ct/local-ca.js';
import { tempDir } from './fixtures.js';

const ORG = 'hospital.example';
const AUTHORITY = 'authority.example';
const AT = '2026-06-17T00:10:00Z';

let dir: ReturnType<typeof tempDir>;
let ca: LocalCa;
let serveProcess: ChildProcess | null = null;
let log: { url: string; logListUrl: string; logId: string };
const env = () => ({ EMBLEM_CACHE_DIR: join(dir.path, 'cache'), EMBLEM_PASSPHRASE: undefined });
const file = (name: string) => join(dir.path, name);

async function cli(args: string[]): Promise<string> {
  const res = await runCli(args, { env: env(), timeoutMs: 60_000 });
  assert.equal(res.code, 0, `emblem ${args.join(' ')}: ${res.stdout}${res.stderr}`);
  return res.stdout;
}

async function stopLog(): Promise<void> {
  const child = serveProcess;
  if (!child) return;
  serveProcess = null;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

before(async () => {
  dir = tempDir();
  ca = await createLocalCa();
  writeFileSync(file('ca.pem'), ca.pem);
  serveProcess = spawn(process.execPath, [CLI, 'ct', 'serve', '--listen', '127.0.0.1:0', '--roots', file('ca.pem'), '--state', file('ct-state')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  log = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: serveProcess!.stdout! }).once('line', resolve)));
});

after(async () => {
  await stopLog();
  dir.remove();
});

async function rootKey(name: string, host: string, kind: 'v1' | 'static'): Promise<string> {
  const out = JSON.parse(await cli(['keygen', '--out', file(`${name}.jwk`), '--public-out', file(`${name}.pub.jwk`)]));
  const logged = await issueBindingCertificate(ca, log.url, { host, kid: out.kid, publicKey: out.jwk });
  writeFileSync(file(`${name}.log.json`), JSON.stringify([logged[kind]]));
  return file(`${name}.log.json`);
}

test('prefetch with the log up, stop the log, verify and scan with --ct-bundle: commitment verified, no network', async () => {
  const orgLog = await rootKey('org-root', ORG, 'v1');
  const authorityLog = await rootKey('authority-root', AUTHORITY, 'static');
  await cli(['keygen', '--out', file('emblem.jwk'), '--public-out', file('emblem.pub.jwk')]);
  const validity = ['--not-before', '2026-06-01T00:00:00Z', '--lifetime', '60d'];
  const emblem = await cli(['sign', 'emblem', '--key', file('emblem.jwk'), '--asset', ORG, '--iss', `https://${ORG}`, '--embed-key', ...validity]);
  const root = await cli([
    'sign', 'endorsement', '--key', file('org-root.jwk'), '--endorse', file('emblem.pub.jwk'),
    '--iss', `https://${ORG}`, '--sub', `https://${ORG}`, '--log', orgLog, '--embed-key', ...validity,
  ]);
  const external = await cli([
    'sign', 'endorsement', '--key', file('authority-root.jwk'), '--endorse', file('org-root.pub.jwk'),
    '--iss', `https://${AUTHORITY}`, '--sub', `https://${ORG}`, '--end', '--log', authorityLog, '--embed-key', ...validity,
  ]);
  writeFileSync(file('organizational.txt'), emblem + root);
  writeFileSync(file('endorsed.txt'), emblem + root + external);

  // Two bundles: one for the organizational set only, one for both sets (RFC 6962 and static-ct entries).
  const small = JSON.parse(await cli(['ct', 'prefetch', '--log-list', log.logListUrl, '--at', AT, '--out', file('org.bundle.json'), file('organizational.txt')]));
  assert.deepEqual(small.sets.map((s: { commitment: string }) => s.commitment), ['verified']);
  const full = JSON.parse(await cli(['ct', 'prefetch', '--log-list', log.logListUrl, '--at', AT, '--out', file('bundle.json'), file('organizational.txt'), file('endorsed.txt')]));
  assert.deepEqual(full.sets.map((s: { result: string[] }) => s.result), [['ORGANIZATIONAL-UNTRUSTED'], ['ENDORSED-UNTRUSTED']]);
  assert.ok(full.responses > 0);
  // An existing bundle is not overwritten without --force.
  const again = await runCli(['ct', 'prefetch', '--log-list', log.logListUrl, '--out', file('bundle.json'), file('organizational.txt')], { env: env() });
  assert.equal(again.code, 2);

  await stopLog();

  // The log is gone: without the bundle the commitment cannot be checked (indeterminate, not invalid) ...
  const offline = await runCli(['verify', '--json', '--at', AT, '--log-list', log.logListUrl, file('endorsed.txt')], { env: env() });
  assert.equal(offline.code, 3, offline.stdout);
  assert.equal(JSON.parse(offline.stdout).commitment, 'unavailable');

  // ... with it, every commitment is verified again from the recorded answers.
  const verified = await runCli(['verify', '--json', '--at', AT, '--ct-bundle', file('bundle.json'), file('endorsed.txt')], { env: env() });
  assert.equal(verified.code, 0, verified.stdout);
  const report = JSON.parse(verified.stdout);
  assert.equal(report.commitment, 'verified');
  assert.deepEqual(report.result, ['ENDORSED-UNTRUSTED']);
  assert.deepEqual(report.endorsedBy, [`https://${AUTHORITY}`]);
  assert.equal(report.ctBundle.path, file('bundle.json'));
  assert.equal(report.ctBundle.createdAt, full.createdAt);
  assert.equal(report.ctBundle.ageSeconds, Math.round((Date.parse(AT) - Date.parse(full.createdAt)) / 1000));

  const text = await runCli(['verify', '--at', AT, '--ct-bundle', file('bundle.json'), file('organizational.txt')], { env: env() });
  assert.equal(text.code, 0, text.stdout);
  assert.match(text.stdout, /Root-key commitment: verified in Certificate Transparency/);
  assert.match(text.stdout, new RegExp(`CT evidence: offline bundle .*bundle\\.json, collected ${full.createdAt.replace(/\./g, '\\.')} \\(`));

  // A bundle without the authority's entry: ORGANIZATIONAL is proven, ENDORSED could not be checked.
  const partial = await runCli(['verify', '--json', '--at', AT, '--ct-bundle', file('org.bundle.json'), file('endorsed.txt')], { env: env() });
  assert.equal(partial.code, 3, partial.stdout);
  const p = JSON.parse(partial.stdout);
  assert.deepEqual(p.result, ['ORGANIZATIONAL-UNTRUSTED']);
  assert.equal(p.commitment, 'unavailable');
  assert.deepEqual(p.notEstablished.map((n: { level: string; issuer: string }) => [n.level, n.issuer]), [['ENDORSED', `https://${AUTHORITY}`]]);

  // scan with ZDNS answers (no DNS query) and the bundle: protected, verified.
  const answers = readFileSync(file('endorsed.txt'), 'utf8').trim().split('\n').map((t) => ({ ttl: 60, type: 'TXT', class: 'IN', name: ORG, answer: `adem-token=${t}` }));
  writeFileSync(file('zdns.jsonl'), `${JSON.stringify({ name: ORG, class: 'IN', status: 'NOERROR', data: { answers } })}\n`);
  const scan = await runCli(['scan', '--input', file('zdns.jsonl'), '--format', 'zdns', '--workers', '0', '--no-progress', '--json', '--at', AT, '--ct-bundle', file('bundle.json')], { env: env(), timeoutMs: 60_000 });
  assert.equal(scan.code, 0, scan.stderr);
  const row = JSON.parse(scan.stdout.trim());
  assert.equal(row.status, 'protected', JSON.stringify(row));
  assert.equal(row.level, 'ENDORSED-UNTRUSTED');
  assert.equal(row.sets[0].commitment, 'verified');
  assert.equal(JSON.parse(scan.stderr.trim().split('\n').pop()!).ctBundle.createdAt, full.createdAt);

  // Usage: the bundle brings its own lists; a file that is not a bundle is refused with exit 2.
  const both = await runCli(['verify', '--ct-bundle', file('bundle.json'), '--log-list', log.logListUrl, file('organizational.txt')], { env: env() });
  assert.equal(both.code, 2);
  const notBundle = await runCli(['verify', '--ct-bundle', file('org-root.log.json'), file('organizational.txt')], { env: env() });
  assert.equal(notBundle.code, 2);
  assert.match(notBundle.stderr, /not an offline CT bundle/);
});
