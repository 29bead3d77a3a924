/**
 * Issue 9 §6: the chain a CT log stores with an entry is validated, not just reported. A certificate signed with an
 * organisation's own (CA:FALSE) binding certificate key, naming another organisation, is refused by `emblem ct serve`
 * and, stored by a log that does not validate, fails the commitment with CT_CHAIN_INVALID.
 *
 * No wall clock: certificates get explicit validity (the CLI-facing ones 2020..2049, so a real `ct serve`, even under
 * faketime, sees them valid), the in-process log gets an injected clock, and `verify` gets `--at`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, runCli, SHARED } from '../helpers/cli.js';
import { parsePemCertificates } from '../../src/ct/certificate.js';
import { CertificateSet, checkPrecertificateMatches, validateCertificateChain, type ChainToValidate } from '../../src/ct/chain-validation.js';
import { bindingNames, createLocalCa, issueCertificate, issueLoggedCertificate, type LocalCa } from '../../src/ct/local-ca.js';
import { logEntriesFromChain } from '../../src/ct/leaf-hash.js';
import { startLocalCtLog, type RunningLocalCtLog } from '../../src/ct/local-log/start-local-ct-log.js';
import { submitChain } from '../../src/ct/submission.js';
import { leafIndexFromExtensions } from '../../src/ct/sct.js';
import { toBase64 } from '../../src/ct/bytes.js';
import { tempDir } from './fixtures.js';

const T = Date.UTC(2030, 0, 1);
const WIDE = { notBefore: new Date(Date.UTC(2020, 0, 1)), notAfter: new Date(Date.UTC(2049, 11, 31)) };
const DEBIAN_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

function codeOf(fn: () => unknown): { code: string; message: string } | null {
  try {
    fn();
    return null;
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
}

function assertInvalid(input: ChainToValidate, pattern: RegExp): void {
  const failure = codeOf(() => validateCertificateChain(input));
  assert.ok(failure, `expected CT_CHAIN_INVALID matching ${pattern}`);
  assert.equal(failure.code, 'CT_CHAIN_INVALID', failure.message);
  assert.match(failure.message, pattern);
}

let root: LocalCa;
let intermediate: LocalCa;


test('a valid chain through an intermediate validates, with or without the root stored, and against a trust store', async () => {
  const leaf = await issueCertificate(intermediate, { dnsNames: ['a.example'], ...WIDE });
  const logRoots = new CertificateSet([root.certificate]);
  const full = validateCertificateChain({ leaf, issuers: [intermediate.certificate, root.certificate], at: T, logRoots });
  assert.deepEqual(full.issuers.map((c) => c.label), ['CN=Test Intermediate', 'CN=Test Root']);
  assert.equal(full.root, 'CN=Test Root');
  // RFC 6962 logs store the root; one that leaves it out still ends at a root it accepts.
  const short = validateCertificateChain({ leaf, issuers: [intermediate.certificate], at: T, logRoots });
  assert.equal(short.root, 'CN=Test Root');
  assert.equal(short.issuers.length, 2);
  // A trust store holding the root, or only the intermediate, anchors the chain.
  assert.equal(validateCertificateChain({ leaf, issuers: [intermediate.certificate], at: T, logRoots, trustStore: new CertificateSet([root.certificate]) }).trustAnchor, 'CN=Test Root');
  assert.equal(
    validateCertificateChain({ leaf, issuers: [intermediate.certificate], at: T, logRoots, trustStore: new CertificateSet([intermediate.certificate]) }).trustAnchor,
    'CN=Test Intermediate',
  );
});

test('each broken rule is CT_CHAIN_INVALID with its reason', async () => {
  const logRoots = new CertificateSet([root.certificate]);
  // An organisation's binding certificate (CA:FALSE, like a TLS leaf) whose key signs a certificate anyway.
  const orgBinding = await createLocalCa({ name: 'hospital.example', issuer: root, isCa: false, dnsNames: ['hospital.example'], ...WIDE });
  const forged = await issueCertificate(orgBinding, { dnsNames: bindingNames('authority.example', 'a'.repeat(52)), ...WIDE });
  assertInvalid({ leaf: forged, issuers: [orgBinding.certificate, root.certificate], at: T, logRoots }, /certificate 1 \(CN=hospital\.example\) .*not a CA certificate/);
  // CA:FALSE even with keyCertSign set: the basicConstraints flag decides.
  const leafWithCertSign = await createLocalCa({ name: 'leaf-with-certsign', issuer: root, isCa: false, keyCertSign: true, ...WIDE });
  const forged2 = await issueCertificate(leafWithCertSign, { dnsNames: ['x.example'], ...WIDE });
  assertInvalid({ leaf: forged2, issuers: [leafWithCertSign.certificate, root.certificate], at: T, logRoots }, /not a CA certificate/);
  // CA:TRUE without keyCertSign.
  const noCertSign = await createLocalCa({ name: 'No CertSign CA', issuer: root, keyCertSign: false, ...WIDE });
  const leaf3 = await issueCertificate(noCertSign, { dnsNames: ['y.example'], ...WIDE });
  assertInvalid({ leaf: leaf3, issuers: [noCertSign.certificate, root.certificate], at: T, logRoots }, /keyUsage does not include keyCertSign/);
  // An intermediate outside its validity at the entry's timestamp (and fine at a time inside it).
  const shortLived = await createLocalCa({ name: 'Short CA', issuer: root, notBefore: new Date(Date.UTC(2029, 0, 1)), notAfter: new Date(Date.UTC(2029, 5, 1)) });
  const leaf4 = await issueCertificate(shortLived, { dnsNames: ['z.example'], ...WIDE });
  assertInvalid({ leaf: leaf4, issuers: [shortLived.certificate, root.certificate], at: T, logRoots }, /not valid at the entry's timestamp 2030-01-01T00:00:00\.000Z/);
  assert.equal(validateCertificateChain({ leaf: leaf4, issuers: [shortLived.certificate], at: Date.UTC(2029, 2, 1), logRoots }).root, 'CN=Test Root');
  // A root the log does not accept, a signature by another key, a trust store without the chain's CA.
  const otherRoot = await createLocalCa({ name: 'Other Root', ...WIDE });
  const leaf5 = await issueCertificate(intermediate, { dnsNames: ['w.example'], ...WIDE });
  assertInvalid({ leaf: leaf5, issuers: [intermediate.certificate, root.certificate], at: T, logRoots: new CertificateSet([otherRoot.certificate]) }, /not a root the log accepts|neither a root the log accepts/);
  const strangerLeaf = await issueCertificate(otherRoot, { dnsNames: ['w.example'], ...WIDE });
  assertInvalid({ leaf: strangerLeaf, issuers: [intermediate.certificate, root.certificate], at: T, logRoots }, /certificate 0 \(CN=w\.example\) is not signed by certificate 1/);
  assertInvalid(
    { leaf: leaf5, issuers: [intermediate.certificate, root.certificate], at: T, logRoots, trustStore: new CertificateSet([otherRoot.certificate]) },
    /does not lead to a CA in the trust store/,
  );
  // No issuer at all, garbage, and chains beyond the bound.
  assertInvalid({ leaf: leaf5, issuers: [], at: T, logRoots }, /no issuer|nor signed by one|no root the log accepts/);
  assertInvalid({ leaf: leaf5, issuers: [Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01)], at: T, logRoots }, /chain certificate 1 is not a readable certificate/);
  assertInvalid({ leaf: leaf5, issuers: Array(11).fill(intermediate.certificate), at: T, logRoots }, /more than 10/);
});

test('interop: the Let\'s Encrypt chains in ../shared/interop/certs validate (signatures, CA flags, keyCertSign, Debian trust store)', async (t) => {
  for (const name of ['auth.felixlinker.de', 'emblem.felixlinker.de']) {
    const chain = parsePemCertificates(readFileSync(join(SHARED, 'interop/certs', `${name}.fullchain.pem`), 'utf8'));
    assert.equal(chain.length, 2, 'leaf and the E7/E8 intermediate');
    const [leaf, issuer] = chain as [Uint8Array, Uint8Array];
    // The entry's timestamp: the SCT the certificate carries (no live log is reachable from the tests).
    const at = logEntriesFromChain(chain)[0]!.timestamp;
    // With the intermediate as the accepted root: the leaf's signature, the intermediate's CA:TRUE + keyCertSign, validity.
    const asRoot = validateCertificateChain({ leaf, issuers: [issuer], at, logRoots: new CertificateSet([issuer]) });
    assert.match(asRoot.root, /^CN=E[78], O=Let's Encrypt$/);
    // After the intermediate expired (2027-03-12) it could not have been accepted with this chain.
    assertInvalid({ leaf, issuers: [issuer], at: Date.UTC(2027, 5, 1), logRoots: new CertificateSet([issuer]) }, /not valid at the entry's timestamp/);
    if (!existsSync(DEBIAN_BUNDLE)) {
      t.diagnostic(`${DEBIAN_BUNDLE} absent: trust store part skipped`);
      continue;
    }
    // The chain's top is the intermediate; its root (ISRG Root X1) is in Debian's bundle.
    const bundle = new CertificateSet(parsePemCertificates(readFileSync(DEBIAN_BUNDLE, 'utf8'), 2048));
    const trusted = validateCertificateChain({ leaf, issuers: [issuer], at, logRoots: bundle, trustStore: bundle });
    assert.equal(trusted.root, "CN=ISRG Root X1, O=Internet Security Research Group");
    assert.equal(trusted.trustAnchor, 'CN=ISRG Root X1, O=Internet Security Research Group');
    // A trust store without ISRG's root (only an unrelated CA) does not anchor it.
    assertInvalid({ leaf, issuers: [issuer], at, logRoots: bundle, trustStore: new CertificateSet([root.certificate]) }, /does not lead to a CA in the trust store/);
  }
  // The two chains crossed: the auth leaf was not signed by E8.
  const auth = parsePemCertificates(readFileSync(join(SHARED, 'interop/certs/auth.felixlinker.de.fullchain.pem'), 'utf8'));
  const emblem = parsePemCertificates(readFileSync(join(SHARED, 'interop/certs/emblem.felixlinker.de.fullchain.pem'), 'utf8'));
  if (Buffer.compare(Buffer.from(auth[1]!), Buffer.from(emblem[1]!)) !== 0) {
    assertInvalid({ leaf: auth[0]!, issuers: [emblem[1]!], at: logEntriesFromChain(auth)[0]!.timestamp, logRoots: new CertificateSet([emblem[1]!]) }, /is not signed by/);
  }
});

test('the local log refuses a forged chain at add-chain and add-pre-chain (HTTP 400), and accepts valid ones', async () => {
  const log = await startLocalCtLog({ roots: [root.certificate], batchMs: 5, now: () => T });
  try {
    const orgBinding = await createLocalCa({ name: 'hospital.example', issuer: root, isCa: false, dnsNames: ['hospital.example'], ...WIDE });
    for (const precertificate of [false, true]) {
      await assert.rejects(issueLoggedCertificate(orgBinding, log.url, { dnsNames: bindingNames('authority.example', 'a'.repeat(52)), precertificate, ...WIDE }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CT_SUBMISSION_REJECTED');
        assert.match(err.message, /HTTP 400 .*chain rejected: certificate 1 \(CN=hospital\.example\) .*not a CA certificate/);
        return true;
      });
    }
    assert.equal(log.log.treeHead.treeSize, 0, 'nothing was logged');
    // Through an intermediate, with or without the root in the submission: accepted.
    const ok = await issueLoggedCertificate(intermediate, log.url, { dnsNames: ['ok.example'], ...WIDE });
    assert.equal(ok.static.ver === 'static' && ok.static.index, 0);
    await submitChain(log.url, [await issueCertificate(intermediate, { dnsNames: ['ok2.example'], ...WIDE }), intermediate.certificate]);
    // An intermediate expired at the log's clock is refused too.
    const expired = await createLocalCa({ name: 'Expired CA', issuer: root, notBefore: new Date(Date.UTC(2021, 0, 1)), notAfter: new Date(Date.UTC(2022, 0, 1)) });
    await assert.rejects(submitChain(log.url, [await issueCertificate(expired, { dnsNames: ['e.example'], ...WIDE }), expired.certificate]), /not valid at/);
  } finally {
    await log.close();
  }
});

test('a precert entry\'s stored precertificate must be its own: another one (valid chain and all) cannot stand in', async () => {
  const log = await startLocalCtLog({ roots: [root.certificate], batchMs: 5, now: () => T });
  try {
    await issueLoggedCertificate(intermediate, log.url, { dnsNames: ['first.example'], ...WIDE });
    await issueLoggedCertificate(root, log.url, { dnsNames: ['second.example'], ...WIDE });
    const [a, b] = log.log.entries as [(typeof log.log.entries)[0], (typeof log.log.entries)[0]];
    assert.equal(a.entry.entryType, 'precert');
    checkPrecertificateMatches(a.entry, a.preCertificate!, a.chain);
    checkPrecertificateMatches(b.entry, b.preCertificate!, b.chain);
    const fails = (fn: () => void, pattern: RegExp) => {
      const failure = codeOf(fn);
      assert.equal(failure?.code, 'CT_CHAIN_INVALID', failure?.message);
      assert.match(failure!.message, pattern);
    };
    // b's precertificate and chain (valid in themselves) served with a's entry: other issuer key, then other TBS.
    fails(() => checkPrecertificateMatches(a.entry, b.preCertificate!, b.chain), /issuer_key_hash/);
    const sameIssuer = await issueLoggedCertificate(intermediate, log.url, { dnsNames: ['third.example'], ...WIDE });
    assert.ok(sameIssuer);
    const c = log.log.entries[2]!;
    fails(() => checkPrecertificateMatches(a.entry, c.preCertificate!, a.chain), /TBS differs/);
    fails(() => checkPrecertificateMatches(a.entry, a.preCertificate!, []), /no issuer/);
    // A final certificate (no poison) is not a precertificate.
    fails(() => checkPrecertificateMatches(a.entry, sameIssuer.chain[0]!, a.chain), /no poison/);
  } finally {
    await log.close();
  }
});

// --- Acceptance, through the CLI: `ct serve` refuses; a log that stores the chain anyway makes `verify` say CT_CHAIN_INVALID.

const ORG = 'hospital.example';
const AUTHORITY = 'authority.example';

let dir: ReturnType<typeof tempDir>;
let serveProcess: ChildProcess;
let served: { url: string };
let double: RunningLocalCtLog;
const file = (name: string) => join(dir.path, name);
const env = () => ({ EMBLEM_CACHE_DIR: join(dir.path, 'cache') });

async function cli(args: string[]): Promise<string> {
  const res = await runCli(args, { env: env() });
  assert.equal(res.code, 0, `emblem ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

before(async () => {
  root = await createLocalCa({ name: 'Test Root', ...WIDE });
  intermediate = await createLocalCa({ name: 'Test Intermediate', issuer: root, ...WIDE });
  dir = tempDir();
  writeFileSync(file('root.pem'), root.pem);
  serveProcess = spawn(process.execPath, [CLI, 'ct', 'serve', '--listen', '127.0.0.1:0', '--roots', file('root.pem'), '--batch-ms', '5'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  served = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: serveProcess.stdout! }).once('line', resolve)));
  // The test double: the same local log, told to store chains a production log refuses (RFC 6962 over HTTP, loopback).
  double = await startLocalCtLog({ roots: [root.certificate], batchMs: 5, now: () => T, chainValidation: 'signatures-only', description: 'non-validating test log' });
});

after(async () => {
  await double?.close();
  if (serveProcess) {
    await new Promise((resolve) => {
      serveProcess.once('exit', resolve);
      serveProcess.kill('SIGTERM');
    });
  }
  dir?.remove();
});

test('acceptance: ct serve refuses the forged chain; a log storing it anyway makes verify report CT_CHAIN_INVALID, not ENDORSED', async () => {
  const orgRoot = JSON.parse(await cli(['keygen', '--out', file('org-root.jwk'), '--public-out', file('org-root.pub.jwk')]));
  const fakeAuthority = JSON.parse(await cli(['keygen', '--out', file('fake-authority.jwk'), '--public-out', file('fake-authority.pub.jwk')]));
  await cli(['keygen', '--out', file('emblem.jwk'), '--public-out', file('emblem.pub.jwk')]);

  // The organisation's own binding certificate (CA:FALSE, names its root key's kid), whose private key it holds.
  const orgBinding = await createLocalCa({ name: ORG, issuer: root, isCa: false, dnsNames: bindingNames(ORG, orgRoot.kid), ...WIDE });
  // With that key it signs a certificate naming the authority's adem-configuration names for a key it made up.
  const forged = await issueCertificate(orgBinding, { dnsNames: bindingNames(AUTHORITY, fakeAuthority.kid), ...WIDE });
  const forgedChain = [forged, orgBinding.certificate, root.certificate];

  // 1. `emblem ct serve` refuses it like production logs do: HTTP 400 with the reason.
  const refused = await fetch(`${served.url}ct/v1/add-chain`, { method: 'POST', body: JSON.stringify({ chain: forgedChain.map(toBase64) }) });
  assert.equal(refused.status, 400);
  const body = (await refused.json()) as { error: string };
  assert.match(body.error, /chain rejected: certificate 1 \(CN=hospital\.example\) signed certificate 0 but is not a CA certificate/);

  // 2. The non-validating log stores the organisation's binding certificate (fine) and the forged one (x509 and precert).
  const orgSct = await submitChain(double.url, [orgBinding.certificate, root.certificate]);
  const orgLog = [{ ver: 'static', id: toBase64(orgSct.logId), index: leafIndexFromExtensions(orgSct.extensions) }];
  const forgedX509 = await issueLoggedCertificate(orgBinding, double.url, { dnsNames: bindingNames(AUTHORITY, fakeAuthority.kid), precertificate: false, ...WIDE });
  const forgedPrecert = await issueLoggedCertificate(orgBinding, double.url, { dnsNames: bindingNames(AUTHORITY, fakeAuthority.kid), ...WIDE });
  const forgedLog = [forgedX509.v1, forgedPrecert.static];
  writeFileSync(file('org-log.json'), JSON.stringify(orgLog));
  writeFileSync(file('forged-log.json'), JSON.stringify(forgedLog));

  const notBefore = new Date(T).toISOString();
  const at = new Date(T + 3600_000).toISOString();
  const emblem = await cli(['sign', 'emblem', '--key', file('emblem.jwk'), '--asset', ORG, '--iss', `https://${ORG}`, '--embed-key', '--not-before', notBefore]);
  const rootEndorsement = await cli([
    'sign', 'endorsement', '--key', file('org-root.jwk'), '--endorse', file('emblem.pub.jwk'),
    '--iss', `https://${ORG}`, '--sub', `https://${ORG}`, '--log', file('org-log.json'), '--embed-key', '--not-before', notBefore,
  ]);
  const fakeEndorsement = await cli([
    'sign', 'endorsement', '--key', file('fake-authority.jwk'), '--endorse', file('org-root.pub.jwk'),
    '--iss', `https://${AUTHORITY}`, '--sub', `https://${ORG}`, '--end', '--log', file('forged-log.json'), '--embed-key', '--not-before', notBefore,
  ]);
  writeFileSync(file('set.txt'), emblem + rootEndorsement + fakeEndorsement);

  const ctFlags = ['--log-list', double.logListUrl, '--ca-bundle', file('root.pem')];
  const res = await runCli(['verify', '--json', '--at', at, ...ctFlags, file('set.txt')], { env: env() });
  const report = JSON.parse(res.stdout);
  // The organisation's own commitment verifies (its CA:FALSE certificate is a leaf, as it should be) ...
  assert.equal(report.commitment, 'verified', JSON.stringify(report.errors));
  // ... but the "endorsement by the authority" rests on the forged chain: dropped, not ENDORSED.
  assert.deepEqual(report.result, ['ORGANIZATIONAL-UNTRUSTED'], JSON.stringify(report));
  assert.deepEqual(report.endorsedBy, []);
  const chainErrors = report.errors.filter((e: { code: string }) => e.code === 'CT_CHAIN_INVALID');
  assert.equal(chainErrors.length, 2, JSON.stringify(report.errors));
  for (const e of chainErrors) assert.match(e.message, /non-validating test log: certificate 1 \(CN=hospital\.example\) .*not a CA certificate/);

  // The commitment itself does not verify, for the RFC 6962 entry and the static-ct entry alike (exit 1).
  const check = await runCli(['ct', 'check', '--key', file('fake-authority.pub.jwk'), '--issuer', `https://${AUTHORITY}`, '--log', file('forged-log.json'), '--at', at, ...ctFlags], { env: env() });
  assert.equal(check.code, 1, check.stderr);
  const outcome = JSON.parse(check.stdout);
  assert.equal(outcome.status, 'failed');
  assert.deepEqual(outcome.entries.map((e: { errors: Array<{ code: string }> }) => e.errors.map((x) => x.code)), [['CT_CHAIN_INVALID'], ['CT_CHAIN_INVALID']]);
  // While the organisation's own entry checks out, with its validated chain in the report.
  const own = JSON.parse(await cli(['ct', 'check', '--key', file('org-root.pub.jwk'), '--issuer', `https://${ORG}`, '--log', file('org-log.json'), '--at', at, ...ctFlags]));
  assert.equal(own.status, 'verified');
  assert.deepEqual(own.entries[0].chain, { length: 1, issuer: 'CN=Test Root', issuerSignatureValid: true, valid: true, root: 'CN=Test Root', trustAnchor: 'CN=Test Root' });
});

test('--ca-bundle: an unreadable file is a usage error (exit 2); a bundle without the chain\'s CA fails with CT_CHAIN_INVALID', async () => {
  const missing = await runCli(['ct', 'check', '--key', file('org-root.pub.jwk'), '--issuer', `https://${ORG}`, '--log', file('org-log.json'), '--log-list', double.logListUrl, '--ca-bundle', file('nope.pem')], { env: env() });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--ca-bundle: cannot read .*nope\.pem/);
  const other = await createLocalCa({ name: 'Unrelated Root', ...WIDE });
  writeFileSync(file('other.pem'), other.pem);
  const res = await runCli(
    ['ct', 'check', '--key', file('org-root.pub.jwk'), '--issuer', `https://${ORG}`, '--log', file('org-log.json'), '--at', new Date(T).toISOString(), '--log-list', double.logListUrl, '--ca-bundle', file('other.pem')],
    { env: env() },
  );
  assert.equal(res.code, 1);
  const outcome = JSON.parse(res.stdout);
  assert.equal(outcome.errors[0].code, 'CT_CHAIN_INVALID');
  assert.match(outcome.errors[0].message, /does not lead to a CA in the trust store/);
});
