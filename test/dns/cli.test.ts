// The publishing commands as a user runs them: `emblem dns records`, `emblem dns zone`, and usage errors (exit 2).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { joinTxtPresentation } from '../../src/core/material/txt.js';
import { cli, INTEROP_DNS } from './fixtures.js';
import { tempDir } from './servers.js';

const CYBERSTAR = join(INTEROP_DNS, 'cyberstar.online.txt');

describe('emblem dns records / zone (CLI)', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test('records: one TXT RR per token or key, split into <=255-byte strings', async () => {
    const res = await cli(['dns', 'records', '--name', 'Hospital.Example.org', CYBERSTAR]);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split('\n');
    assert.equal(lines.length, 4);
    for (const line of lines) {
      const m = /^hospital\.example\.org\. 3600 IN TXT (".*")$/.exec(line);
      assert.ok(m, line);
      for (const s of m[1]!.match(/"(?:[^"\\]|\\.)*"/g)!) assert.ok(joinTxtPresentation(s).length <= 255);
      assert.match(joinTxtPresentation(m[1]!), /^adem-(token|key)=/);
    }
  });

  test('records --format value: unsplit values for web forms; --id adds an identifier', async () => {
    const res = await cli(['dns', 'records', '--format', 'value', '--id', 'set1', CYBERSTAR]);
    assert.equal(res.code, 0, res.stderr);
    for (const line of res.stdout.trim().split('\n')) assert.match(line, /^adem-(token|key)-set1=/);
  });

  test('records --era cwt on JWS material: nothing to print, exit 2, says why', async () => {
    const res = await cli(['dns', 'records', '--era', 'cwt', join(INTEROP_DNS, 'emblem.redcross.org.uk.txt')]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /other era/);
  });

  test('a private key is never published', async () => {
    const key = join(dir.path, 'private.jwk');
    writeFileSync(key, JSON.stringify({ kty: 'EC', crv: 'P-256', alg: 'ES256', x: 'a', y: 'b', d: 'secret' }));
    const res = await cli(['dns', 'records', key]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /private/);
  });

  test('zone --format octodns: provider YAML with whole TXT values', async () => {
    const res = await cli(['dns', 'zone', '--origin', 'example.org', '--name', 'hospital.example.org', '--format', 'octodns', CYBERSTAR]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^'hospital':\n {2}- type: TXT\n {4}ttl: 3600\n {4}values:\n/m);
    assert.equal(res.stdout.match(/^ {6}- 'adem-/gm)?.length, 4);
  });

  test('usage errors exit 2 with one line', async () => {
    for (const args of [
      ['dns', 'zone', '--origin', 'example.org'],
      ['dns', 'zone', '--origin', 'example.org', '--name', 'elsewhere.test', CYBERSTAR],
      ['dns', 'records', '--ihle-type', '16', CYBERSTAR],
      ['check', 'example.org', '--resolver', '127.0.0.1:53', '--doh', 'https://dns.example/dns-query'],
      ['check', 'example.org', '--resolver', 'not-an-ip'],
      ['check', 'bad..name'],
    ]) {
      const res = await cli(args);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stdout}`);
      assert.equal(res.stderr.trim().split('\n').length >= 1, true);
    }
  });

  test('serve refuses a broken zone file with its line number', async () => {
    const zone = join(dir.path, 'broken.zone');
    writeFileSync(zone, '$ORIGIN x.test.\n@ 60 IN SOA ns hm 1 1 1 1 1\n@ 60 IN NS ns\nbad 60 IN A 999.1.1.1\n');
    const res = await cli(['dns', 'serve', '--zone', zone, '--listen', '127.0.0.1:0']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /line 4/);
  });
});
