import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, SHARED } from '../helpers/cli.js';
import { checkBinding } from '../../src/ct/binding.js';
import { parsePemCertificates, summarizeCertificate, type CertificateSummary } from '../../src/ct/certificate.js';
import { parsePublicJwk } from '../../src/core/tokens/keys.js';

const CERTS = join(SHARED, 'interop', 'certs');
const HOSTS = ['auth.felixlinker.de', 'emblem.felixlinker.de'];
const KEY_FILES = ['auth.felixlinker.de.pub.json', 'emblem.felixlinker.de.pub.json', 'emblem.pub.json'];
const DURING_VALIDITY = new Date('2026-04-15T00:00:00Z');

function kidOfFile(file: string): string {
  const { kid: _kid, ...jwk } = JSON.parse(readFileSync(join(CERTS, file), 'utf8'));
  return parsePublicJwk(jwk).jwsKid;
}

function leafOf(host: string): CertificateSummary {
  return summarizeCertificate(parsePemCertificates(readFileSync(join(CERTS, `${host}.fullchain.pem`), 'utf8'))[0]!);
}

for (const host of HOSTS) {
  test(`the ${host} certificate binds its own root key and no other`, async () => {
    const cert = leafOf(host);
    for (const file of KEY_FILES) {
      const own = file === `${host}.pub.json`;
      const result = checkBinding(cert, { host, kid: kidOfFile(file), now: DURING_VALIDITY });
      assert.equal(result.ok, own, `${file} for ${host}`);
      if (!own) assert.deepEqual(result.errors.map((e) => e.code), ['CT_BINDING_NAME_MISSING']);
      // Through the CLI, as an operator would check it.
      const cli = await runCli(['ct', 'binding', join(CERTS, `${host}.fullchain.pem`), '--key', join(CERTS, file), '--issuer', `https://${host}`, '--at', DURING_VALIDITY.toISOString()]);
      assert.equal(cli.code, own ? 0 : 1, cli.stderr);
      assert.equal(JSON.parse(cli.stdout).status, own ? 'verified' : 'failed');
    }
    // The right key under another organisation's host is not bound either.
    const other = HOSTS.find((h) => h !== host)!;
    assert.equal(checkBinding(cert, { host: other, kid: kidOfFile(`${host}.pub.json`), now: DURING_VALIDITY }).ok, false);
  });
}

test('expiry is reported, and fails only under the strict policy', () => {
  const host = 'auth.felixlinker.de';
  const cert = leafOf(host);
  const kid = kidOfFile(`${host}.pub.json`);
  const later = new Date('2026-11-01T00:00:00Z');
  const lenient = checkBinding(cert, { host, kid, now: later });
  assert.equal(lenient.ok, true);
  assert.equal(lenient.validity.state, 'expired');
  assert.match(lenient.notes[0]!, /expired/);
  const strict = checkBinding(cert, { host, kid, now: later }, { failOnExpired: true });
  assert.deepEqual(strict.errors.map((e) => e.code), ['CT_BINDING_EXPIRED']);
});

test('spec names (adem-configuration.<host>) are accepted; wildcards and a missing host name are not', () => {
  const base: CertificateSummary = {
    subject: 'CN=x', issuer: 'CN=ca', serialNumber: '01', notBefore: new Date(0), notAfter: new Date(4e12), dnsNames: [], commonName: null,
  };
  const now = new Date('2026-11-01T12:00:00Z');
  const kid = 'abcdef';
  const with_ = (...dnsNames: string[]) => checkBinding({ ...base, dnsNames }, { host: 'org.example', kid, now });
  assert.equal(with_('adem-configuration.org.example', 'abcdef.adem-configuration.org.example').ok, true);
  assert.equal(with_('org.example', 'ABCDEF.adem-configuration.org.example').ok, true, 'names compare case-insensitively');
  assert.equal(with_('org.example', '*.adem-configuration.org.example').ok, false, 'wildcards are ignored');
  assert.equal(with_('*.org.example', 'abcdef.adem-configuration.org.example').ok, false);
  assert.deepEqual(with_('abcdef.adem-configuration.org.example').errors.map((e) => e.code), ['CT_BINDING_NAME_MISSING']);
});
