import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decode as decodeCbor } from 'cborg';
import { decodeCbor as decodeCore, Tagged } from '../../src/core/tokens/cbor.js';
import { CLI_SIGNED_AT, runCli, SHARED } from '../helpers/cli.js';
import { tempDir } from '../dns/servers.js';

const AT = '2026-11-01T12:00:00Z';

function roundTrip(json: string): string {
  const items = (JSON.parse(json) as { items: Array<{ token: unknown }> }).items;
  return items.map((i) => (typeof i.token === 'string' ? i.token : JSON.stringify(i.token))).join('\n');
}

async function inspectBoth(file: string): Promise<{ text: string; json: string }> {
  const text = await runCli(['inspect', file, '--at', AT]);
  assert.equal(text.code, 0, text.stderr);
  const json = await runCli(['inspect', file, '--at', AT, '--json']);
  assert.equal(json.code, 0, json.stderr);
  return { text: text.stdout, json: json.stdout };
}

test('inspect prints every claim of every token in ../shared/interop/dns; --json round-trips', { timeout: 60_000 }, async () => {
  const dir = join(SHARED, 'interop/dns');
  const work = tempDir();
  try {
    for (const name of readdirSync(dir)) {
      const { text, json } = await inspectBoth(join(dir, name));
      const parsed = JSON.parse(json) as { items: Array<{ kind: string; token: string; claims?: Record<string, unknown> }> };
      const jws = parsed.items.filter((i) => i.kind === 'jws');
      assert.ok(jws.length > 0, name);
      for (const item of jws) {
        const raw = JSON.parse(Buffer.from(item.token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
        assert.deepEqual(item.claims, raw, `${name}: all claims, as written`);
        for (const k of Object.keys(raw)) assert.match(text, new RegExp(`^    ${k}: `, 'm'), `${name}: claim ${k} printed`);
      }
      assert.match(text, /Nothing here is verified/);
      assert.doesNotMatch(text, /VALID|PROTECTED|INVALID/);
      const again = join(work.path, `${name}.again`);
      writeFileSync(again, roundTrip(json));
      const second = await runCli(['inspect', again, '--at', AT, '--json']);
      assert.deepEqual((JSON.parse(second.stdout) as { items: unknown }).items, parsed.items, `${name}: round trip`);
    }
  } finally {
    work.remove();
  }
});

test('inspect decodes a CWT set: COSE header, kid, every claim label, validity at --at; --json round-trips', { timeout: 60_000 }, async () => {
  const work = tempDir();
  try {
    const f = (n: string) => join(work.path, n);
    await runCli(['keygen', '--alg', 'ES256', '--out', f('k.jwk'), '--public-out', f('k.pub.jwk')]);
    const emblem = await runCli(['sign', 'emblem', '--era', 'cwt', '--key', f('k.jwk'), '--asset', 'clinic.hospital.example', '--iss', 'https://hospital.example', '--at', CLI_SIGNED_AT, '--lifetime', '2d']);
    assert.equal(emblem.code, 0, emblem.stderr);
    writeFileSync(f('set.txt'), `${emblem.stdout.trim()}\n${readFileSync(f('k.pub.jwk'), 'utf8')}`);
    const { text, json } = await inspectBoth(f('set.txt'));
    const parsed = JSON.parse(json) as { items: Array<{ kind: string; token: string; claims: Record<string, unknown>; kid: string; validity: { state: string } }> };
    const cwt = parsed.items.find((i) => i.kind === 'cwt')!;
    assert.equal(cwt.validity.state, 'valid');
    assert.match(cwt.kid, /^[0-9a-f]{64}$/);
    const outer = (decodeCore(Buffer.from(cwt.token, 'hex'), 'x') as Tagged).value as Tagged;
    const payload = (outer.value as Uint8Array[])[2]!;
    const claims = decodeCbor(payload, { useMaps: true }) as Map<unknown, unknown>;
    assert.equal(Object.keys(cwt.claims).length, claims.size);
    for (const label of claims.keys()) assert.match(text, new RegExp(`\\b${String(label)}\\)?: `), `label ${String(label)} printed`);
    writeFileSync(f('again.txt'), roundTrip(json));
    const second = await runCli(['inspect', f('again.txt'), '--at', AT, '--json']);
    assert.deepEqual((JSON.parse(second.stdout) as { items: unknown }).items, parsed.items);
  } finally {
    work.remove();
  }
});

test('inspect - reads standard input: the same items as the file, source "stdin"', { timeout: 60_000 }, async () => {
  const dir = join(SHARED, 'interop/dns');
  for (const name of readdirSync(dir)) {
    const fromFile = await runCli(['inspect', join(dir, name), '--at', AT, '--json']);
    const fromStdin = await runCli(['inspect', '-', '--at', AT, '--json'], { input: readFileSync(join(dir, name), 'utf8') });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const a = JSON.parse(fromFile.stdout) as { items: unknown[] };
    const b = JSON.parse(fromStdin.stdout) as { source: string; items: unknown[] };
    assert.equal(b.source, 'stdin');
    assert.deepEqual(b.items, a.items, name);
    const text = await runCli(['inspect', '-', '--at', AT], { input: readFileSync(join(dir, name), 'utf8') });
    assert.match(text.stdout, /^    iss: /m);
  }
  const empty = await runCli(['inspect', '-', '--at', AT], { input: 'nothing here\n' });
  assert.equal(empty.code, 2);
});

test('inspect --name reads the records published at a name (emblem dns serve): every claim, the same items as the file; usage errors', { timeout: 60_000 }, async () => {
  const work = tempDir();
  const { writeInteropZone } = await import('../dns/fixtures.js');
  const { startEmblemServer } = await import('../dns/servers.js');
  const server = await startEmblemServer([await writeInteropZone(work.path)]);
  try {
    for (const [name, file] of <Array<[string, string]>>[['emblem.felixlinker.de', 'emblem.felixlinker.de.txt'], ['emblem.redcross.org.uk', 'emblem.redcross.org.uk.txt'], ['cyberstar.online', 'cyberstar.online.txt']]) {
      const r = await runCli(['inspect', '--name', name, '--resolver', `127.0.0.1:${server.port}`, '--at', AT, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const got = JSON.parse(r.stdout) as { source: string; items: Array<{ token: unknown }> };
      assert.match(got.source, new RegExp(`^dns:${name.replace(/\./g, '\\.')} via `));
      const want = JSON.parse((await runCli(['inspect', join(SHARED, 'interop/dns', file), '--at', AT, '--json'])).stdout) as { items: Array<{ token: unknown }> };
      const key = (items: Array<{ token: unknown }>) => items.map((i) => JSON.stringify(i)).sort();
      assert.deepEqual(key(got.items), key(want.items), `${name}: the same items as the file`);
      const text = await runCli(['inspect', '--name', name, '--resolver', `127.0.0.1:${server.port}`, '--at', AT]);
      assert.match(text.stdout, /Nothing here is verified/);
    }
    const none = await runCli(['inspect', '--name', 'empty.example', '--resolver', `127.0.0.1:${server.port}`, '--at', AT, '--json']);
    assert.equal(none.code, 1, 'no emblem records at the name');
    assert.equal((await runCli(['inspect'])).code, 2);
    assert.equal((await runCli(['inspect', 'x.txt', '--name', 'a.example'])).code, 2);
  } finally {
    await server.stop();
    work.remove();
  }
});
