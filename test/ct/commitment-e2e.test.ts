/**
 * Acceptance 3, end to end over HTTP on loopback and through the CLI: a CA made here issues binding certificates,
 * they are logged by `emblem ct serve`, the resulting `log` entries go into root endorsements signed with
 * `emblem sign`, and `emblem verify --log-list <local list> --ca-bundle <the CA>` (no skip) verifies the commitments
 * (without --ca-bundle, Debian's system bundle would be the trust store, and it does not hold the local CA).
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

let dir: ReturnType<typeof tempDir>;
let ca: LocalCa;
let serveProcess: ChildProcess;
let log: { url: string; logListUrl: string; logId: string };
const env = () => ({ EMBLEM_CACHE_DIR: join(dir.path, 'cache') });
const file = (name: string) => join(dir.path, name);

async function cli(args: string[]): Promise<string> {
  const res = await runCli(args, { env: env() });
  assert.equal(res.code, 0, `emblem ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

/** keygen, then a binding certificate for that key logged in the local log; returns the key's kid. */
async function rootKeyWithCommitment(name: string, host: string): Promise<{ kid: string; log: string; staticLog: string }> {
  const out = JSON.parse(await cli(['keygen', '--out', file(`${name}.jwk`), '--public-out', file(`${name}.pub.jwk`)]));
  // The CA step stands in for an ACME CA; the certificate is then checked with the CLI like a real one.
  const logged = await issueBindingCertificate(ca, log.url, { host, kid: out.kid, publicKey: out.jwk });
  writeFileSync(file(`${name}.chain.pem`), logged.chainPem);
  const fromCert = await cli(['ct', 'leafhash', file(`${name}.chain.pem`)]);
  // The local log puts leaf_index in its SCTs (it is also a static-ct log), so leafhash reports a static entry.
  assert.deepEqual(JSON.parse(fromCert), [logged.static]);
  writeFileSync(file(`${name}.log.json`), JSON.stringify([logged.v1]));
  writeFileSync(file(`${name}.static-log.json`), JSON.stringify([logged.static]));
  return { kid: out.kid, log: file(`${name}.log.json`), staticLog: file(`${name}.static-log.json`) };
}

before(async () => {
  dir = tempDir();
  ca = await createLocalCa();
  writeFileSync(file('ca.pem'), ca.pem);
  serveProcess = spawn(process.execPath, [CLI, 'ct', 'serve', '--listen', '127.0.0.1:0', '--roots', file('ca.pem'), '--state', file('ct-state')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  log = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: serveProcess.stdout! }).once('line', resolve)));
});

after(async () => {
  await new Promise((resolve) => {
    serveProcess.once('exit', resolve);
    serveProcess.kill('SIGTERM');
  });
  dir.remove();
});

test('organizational and endorsed emblems verify with "commitment": "verified" against the local log', async () => {
  const org = await rootKeyWithCommitment('org-root', ORG);
  const authority = await rootKeyWithCommitment('authority-root', AUTHORITY);
  await cli(['keygen', '--out', file('emblem.jwk'), '--public-out', file('emblem.pub.jwk')]);

  const emblem = await cli(['sign', 'emblem', '--key', file('emblem.jwk'), '--asset', ORG, '--iss', `https://${ORG}`, '--embed-key']);
  const rootEndorsement = await cli([
    'sign', 'endorsement', '--key', file('org-root.jwk'), '--endorse', file('emblem.pub.jwk'),
    '--iss', `https://${ORG}`, '--sub', `https://${ORG}`, '--log', org.log, '--embed-key',
  ]);
  writeFileSync(file('organizational.txt'), emblem + rootEndorsement);

  const verify = async (input: string, extra: string[] = []) => {
    const res = await runCli(['verify', '--json', '--log-list', log.logListUrl, '--ca-bundle', file('ca.pem'), ...extra, input], { env: env() });
    return { code: res.code, report: JSON.parse(res.stdout), stderr: res.stderr };
  };

  const organizational = await verify(file('organizational.txt'));
  assert.equal(organizational.code, 0, JSON.stringify(organizational.report.errors));
  assert.deepEqual(organizational.report.result, ['ORGANIZATIONAL-UNTRUSTED']);
  assert.equal(organizational.report.commitment, 'verified');

  // An authority endorses the organisation's root key, with its own commitment (here: a static-ct entry).
  const external = await cli([
    'sign', 'endorsement', '--key', file('authority-root.jwk'), '--endorse', file('org-root.pub.jwk'),
    '--iss', `https://${AUTHORITY}`, '--sub', `https://${ORG}`, '--end', '--log', authority.staticLog, '--embed-key',
  ]);
  writeFileSync(file('endorsed.txt'), emblem + rootEndorsement + external);
  const endorsed = await verify(file('endorsed.txt'));
  assert.equal(endorsed.code, 0, JSON.stringify(endorsed.report.errors));
  assert.deepEqual(endorsed.report.result, ['ENDORSED-UNTRUSTED']);
  assert.deepEqual(endorsed.report.endorsedBy, [`https://${AUTHORITY}`]);
  assert.equal(endorsed.report.commitment, 'verified');

  // The same set with the authority's key trusted out of band.
  const trusted = await verify(file('endorsed.txt'), ['--trusted-key', file('authority-root.pub.jwk')]);
  assert.deepEqual(trusted.report.result, ['ENDORSED-TRUSTED']);

  // `emblem ct check` shows the steps behind it.
  const check = JSON.parse(await cli(['ct', 'check', '--key', file('org-root.pub.jwk'), '--issuer', `https://${ORG}`, '--log', org.log, '--log-list', log.logListUrl, '--ca-bundle', file('ca.pem')]));
  assert.equal(check.status, 'verified');
  assert.equal(check.entries[0].binding.validity.state, 'valid');
  assert.equal(check.kid, org.kid);
  assert.equal(check.entries[0].entryType, 'precert');
  assert.equal(check.entries[0].chain.issuerSignatureValid, true);
  // The stored chain was validated, up to the local CA, which --ca-bundle makes the trust store.
  assert.equal(check.entries[0].chain.valid, true);
  assert.equal(check.entries[0].chain.trustAnchor, 'CN=Emblem Local CA');

  // A root endorsement whose log entry commits another key: INVALID with the CT code in the report.
  const wrong = await cli([
    'sign', 'endorsement', '--key', file('org-root.jwk'), '--endorse', file('emblem.pub.jwk'),
    '--iss', `https://${ORG}`, '--sub', `https://${ORG}`, '--log', authority.log, '--embed-key',
  ]);
  writeFileSync(file('wrong.txt'), emblem + wrong);
  const invalid = await verify(file('wrong.txt'));
  assert.equal(invalid.code, 1);
  assert.deepEqual(invalid.report.result, ['INVALID']);
  assert.equal(invalid.report.commitment, 'failed');
  assert.ok(invalid.report.errors.some((e: { code: string }) => e.code === 'CT_BINDING_NAME_MISSING'), JSON.stringify(invalid.report.errors));

  // The escape hatch still exists, and says so.
  const skipped = await verify(file('organizational.txt'), ['--skip-commitment-check']);
  assert.equal(skipped.report.commitment, 'skipped');

  // Without a readable list nothing can be checked: indeterminate (exit 3), the proven SIGNED level, never INVALID.
  const unreachable = await verify(file('organizational.txt'), ['--log-list', join(dir.path, 'missing-list.json')]);
  assert.equal(unreachable.code, 3);
  assert.deepEqual(unreachable.report.result, ['SIGNED-UNTRUSTED']);
  assert.equal(unreachable.report.commitment, 'unavailable');
  assert.ok(readFileSync(file('organizational.txt'), 'utf8').length > 0);
});

test('CWT era: the binding certificate names the COSE kid, and both pointer kinds (hash, index) verify', async () => {
  const root = JSON.parse(await cli(['keygen', '--out', file('cwt-root.jwk'), '--public-out', file('cwt-root.pub.jwk')]));
  await cli(['keygen', '--out', file('cwt-emblem.jwk'), '--public-out', file('cwt-emblem.pub.jwk')]);
  const host = 'cwt.example';
  const logged = await issueBindingCertificate(ca, log.url, { host, kid: root.cwtKid, publicKey: root.jwk });
  for (const entry of [logged.v1, logged.static]) {
    writeFileSync(file('cwt-log.json'), JSON.stringify([entry]));
    const emblem = await cli(['sign', 'emblem', '--era', 'cwt', '--key', file('cwt-emblem.jwk'), '--asset', host, '--iss', `https://${host}`]);
    const endorsement = await cli([
      'sign', 'endorsement', '--era', 'cwt', '--key', file('cwt-root.jwk'), '--endorse', file('cwt-emblem.pub.jwk'),
      '--iss', `https://${host}`, '--sub', `https://${host}`, '--log', file('cwt-log.json'),
    ]);
    writeFileSync(file('cwt-set.txt'), emblem + endorsement);
    const res = await runCli(['verify', '--json', '--log-list', log.logListUrl, '--ca-bundle', file('ca.pem'), file('cwt-set.txt'), file('cwt-root.pub.jwk'), file('cwt-emblem.pub.jwk')], { env: env() });
    const report = JSON.parse(res.stdout);
    assert.equal(report.era, 'cwt');
    assert.equal(report.commitment, 'verified', JSON.stringify(report.errors));
    assert.ok(report.levels.includes('ORGANIZATIONAL'), JSON.stringify(report));
  }
  // The JWS kid of the same key is not the name this certificate carries.
  const check = await runCli(['ct', 'check', '--key', file('cwt-root.pub.jwk'), '--issuer', `https://${host}`, '--log', file('cwt-log.json'), '--log-list', log.logListUrl, '--ca-bundle', file('ca.pem')], { env: env() });
  assert.equal(check.code, 1);
  assert.equal(JSON.parse(check.stdout).errors[0].code, 'CT_BINDING_NAME_MISSING');
});
