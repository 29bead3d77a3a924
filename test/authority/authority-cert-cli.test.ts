import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../dns/servers.js';

/** authority init --publish/--tsig-key and authority cert's failures that need no CA (the loop is authority-acme.test.ts). */

let work: { path: string; remove(): void };
const env = () => ({ EMBLEM_CACHE_DIR: join(work.path, 'cache'), EMBLEM_PASSPHRASE: undefined });
const cli = (args: string[]) => runCli(args, { env: env(), timeoutMs: 60_000 });
const AUTH = ['--authority', 'https://authority.example', '--ct-log-list', 'no-such-log-list.json', '--yes'];

before(() => {
  work = tempDir('emblem-authority-cert-');
  writeFileSync(join(work.path, 'tsig.key'), 'key "emblem-update" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=";\n};\n');
});
after(() => work.remove());

test('authority init --publish/--tsig-key: channels kept in the config (absolute key path); bad channels refused', async () => {
  const dir = join(work.path, 'a');
  const r = await cli(['authority', 'init', '--dir', dir, ...AUTH, '--publish', 'rfc2136://127.0.0.1:1/authority.example', '--tsig-key', join(work.path, 'tsig.key'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(dir, 'emblem-authority.json'), 'utf8')) as { channels: Array<{ url: string; tsigKey: string }> };
  assert.deepEqual(config.channels, [{ url: 'rfc2136://127.0.0.1:1/authority.example', tsigKey: join(work.path, 'tsig.key') }]);
  const text = await cli(['authority', 'init', '--dir', join(work.path, 'a2'), ...AUTH]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /emblem authority cert --dir/);

  const bad = await cli(['authority', 'init', '--dir', join(work.path, 'b'), ...AUTH, '--publish', 'ftp://x/authority.example']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--publish ftp:\/\/x\/authority\.example/);
  const lonely = await cli(['authority', 'init', '--dir', join(work.path, 'c'), ...AUTH, '--tsig-key', join(work.path, 'tsig.key')]);
  assert.equal(lonely.code, 2);
  assert.match(lonely.stderr, /--tsig-key goes with an rfc2136/);
});

test('authority cert: no channel is DNS01_PUBLISH_FAILED; an unusable log list is CT_SUBMIT_FAILED before any ACME order; the binding is untouched', async () => {
  const none = join(work.path, 'nochannel');
  assert.equal((await cli(['authority', 'init', '--dir', none, ...AUTH])).code, 0);
  const r = await cli(['authority', 'cert', '--dir', none, '--acme-directory', 'https://127.0.0.1:1/dir', '--json']);
  assert.equal(r.code, 2);
  const out = JSON.parse(r.stdout) as { ok: boolean; error: { code: string } };
  assert.deepEqual([out.ok, out.error.code], [false, 'DNS01_PUBLISH_FAILED']);

  const dir = join(work.path, 'a');
  const before = readFileSync(join(dir, 'emblem-authority.json'), 'utf8');
  const down = await cli(['authority', 'cert', '--dir', dir, '--acme-directory', 'https://127.0.0.1:1/dir', '--json']);
  assert.equal(down.code, 2, down.stdout);
  assert.equal((JSON.parse(down.stdout) as { error: { code: string } }).error.code, 'CT_SUBMIT_FAILED', down.stdout);
  assert.ok(!readFileSync(join(dir, 'emblem-authority.json'), 'utf8').includes('"binding"'));
  assert.equal(readFileSync(join(dir, 'emblem-authority.json'), 'utf8'), before);
  const missing = await cli(['authority', 'cert', '--dir', join(work.path, 'nowhere'), '--acme-directory', 'https://127.0.0.1:1/dir']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /CONFIG_MISSING|emblem authority init/);
  const help = await cli(['authority', 'cert', '--help']);
  assert.match(help.stdout, /--acme-directory/);
});
