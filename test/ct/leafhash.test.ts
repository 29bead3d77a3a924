import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, SHARED } from '../helpers/cli.js';
import { parsePemCertificates } from '../../src/ct/certificate.js';
import { logEntriesFromChain, leafHashOf, x509EntryFor } from '../../src/ct/leaf-hash.js';

const CERTS = join(SHARED, 'interop', 'certs');
const HOSTS = ['auth.felixlinker.de', 'emblem.felixlinker.de'];

for (const host of HOSTS) {
  test(`leaf hashes rebuilt from the ${host} chain equal the deployed log entries byte for byte`, async () => {
    const expected = JSON.parse(readFileSync(join(CERTS, `${host}.logs.json`), 'utf8'));
    const chain = parsePemCertificates(readFileSync(join(CERTS, `${host}.fullchain.pem`), 'utf8'));
    assert.deepEqual(logEntriesFromChain(chain).map((e) => e.log), expected);

    const cli = await runCli(['ct', 'leafhash', join(CERTS, `${host}.fullchain.pem`)]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout), expected);
  });
}

test('the static entry of emblem.felixlinker.de is identified by log ID and leaf_index (IPng Gouda 2026h1)', async () => {
  const cli = await runCli(['ct', 'leafhash', '--details', join(CERTS, 'emblem.felixlinker.de.fullchain.pem')]);
  assert.equal(cli.code, 0, cli.stderr);
  const [staticEntry] = JSON.parse(cli.stdout);
  assert.deepEqual(staticEntry.log, { ver: 'static', id: 'GoudaUpXmMiZoMqIvfSPwLRWYMzDYA0fcfRp/8fRrKM=', index: 1486270852 });
  assert.equal(staticEntry.sctTimestamp, '2026-03-26T03:45:06.284Z');
});

test('a chain without the issuer, or without SCTs, is a usage error; x509 entries need a timestamp', async () => {
  const chain = parsePemCertificates(readFileSync(join(CERTS, 'auth.felixlinker.de.fullchain.pem'), 'utf8'));
  assert.throws(() => logEntriesFromChain([chain[0]!]), { code: 'CT_CERTIFICATE_INVALID' });
  // The issuer certificate has no SCTs: with --timestamp the x509 entry's leaf hash is printed.
  const issuerOnly = join(CERTS, 'auth.felixlinker.de.fullchain.pem');
  const res = await runCli(['ct', 'leafhash', issuerOnly, '--timestamp', '1700000000000', '--log-id', 'FoMtq/CpJQ8P8DqlRf/Iv8gj0IdL9gQpJ/jnHzMT9fo=']);
  assert.equal(res.code, 0, res.stderr);
  const [entry] = JSON.parse(res.stdout);
  assert.equal(entry.hash, Buffer.from(leafHashOf(x509EntryFor(chain[0]!, 1700000000000))).toString('base64'));
  const bad = await runCli(['ct', 'leafhash', join(CERTS, 'auth.felixlinker.de.pub.pem')]);
  assert.equal(bad.code, 2);
});
