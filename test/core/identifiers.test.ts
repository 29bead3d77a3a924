import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assetsCoverName, isMoreGeneral, parseAssetIdentifier, parseOrganizationIdentifier } from '../../src/core/index.js';

const general = (a: string, b: string) => isMoreGeneral(parseAssetIdentifier(a), parseAssetIdentifier(b));

test('more-general order: exact domains, wildcards, "*" alone, address prefixes, incomparable kinds', () => {
  assert.ok(general('example.org', 'example.org'));
  assert.ok(general('Example.ORG', 'example.org'));
  assert.ok(!general('example.org', 'www.example.org'));
  assert.ok(!general('example.org', '*.example.org'));
  assert.ok(general('*.example.org', 'example.org'));
  assert.ok(general('*.example.org', 'a.b.example.org'));
  assert.ok(general('*.example.org', '*.b.example.org'));
  assert.ok(!general('*.b.example.org', '*.example.org'));
  assert.ok(!general('*.example.org', 'badexample.org'));
  assert.ok(general('*', 'anything.example'));
  assert.ok(!general('*', '[2001:db8::1]'));
  assert.ok(general('[2001:db8::/32]', '[2001:db8:1::/48]'));
  assert.ok(general('[2001:db8::/32]', '[2001:db8::1]'));
  assert.ok(!general('[2001:db8::/33]', '[2001:db8:8000::1]'));
  assert.ok(general('[185.230.63.0/24]', '[185.230.63.171]'));
  assert.ok(general('[::ffff:185.230.63.171]', '[185.230.63.171]'));
  assert.ok(!general('[185.230.63.171]', 'cyberstar.online'));
});

test('invalid asset identifiers are refused with IDENTIFIER_INVALID', () => {
  for (const bad of ['', 'a.*.example', 'ex ample.org', '[::1]', '[ff02::1]', '[1.2.3.4/33]', '[2001:db8::/129]', '[not-an-ip]', 'a..b', '-a.example', 'x'.repeat(64) + '.org']) {
    assert.throws(() => parseAssetIdentifier(bad), { code: 'IDENTIFIER_INVALID' }, bad);
  }
});

test('organisation identifiers: https + lower-case host, nothing else', () => {
  assert.equal(parseOrganizationIdentifier('https://redcross.org.uk').host, 'redcross.org.uk');
  for (const bad of ['http://x.org', 'https://X.org', 'https://x.org/', 'https://x.org:443', 'https://x.org/path', 'https://x.org.', 'https://user@x.org', 'x.org']) {
    assert.throws(() => parseOrganizationIdentifier(bad), { code: 'IDENTIFIER_INVALID' }, bad);
  }
});

test('discovery: the queried name must be one of the emblem assets (wildcards, case, trailing dot)', () => {
  assert.ok(assetsCoverName(['adem.redcross.org.uk'], 'ADEM.redcross.org.uk.'));
  assert.ok(assetsCoverName(['*.redcross.org.uk'], 'www.redcross.org.uk'));
  assert.ok(!assetsCoverName(['adem.redcross.org.uk'], 'www.redcross.org.uk'));
  assert.ok(!assetsCoverName(['[185.230.63.171]'], 'cyberstar.online.evil'));
  assert.ok(assetsCoverName(['[185.230.63.171]', 'cyberstar.online'], 'cyberstar.online'));
});
