import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseCwtToken } from '../../src/core/tokens/cwt.js';
import { parseJwsToken } from '../../src/core/tokens/jws.js';
import { parsePublicJwk } from '../../src/core/tokens/keys.js';
import { coseKeyFromJwk } from '../../src/dns/emblem-records.js';
import { joinTxtPresentation } from '../../src/core/material/txt.js';
import { runCli } from '../helpers/cli.js';
import { setLocalBinding, startLocalCt, type LocalCt } from '../helpers/local-ct.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { startKnotPrimary } from '../org/primaries.js';

const T0 = '2026-11-01T12:00:00Z';
const AUTHORITY = 'https://authority.example';

let localCt: LocalCt;
const env = () => ({ EMBLEM_CACHE_DIR: join(localCt.dir, 'cache') });
const cli = (args: string[]) => runCli(args, { env: env(), timeoutMs: 60_000 });

before(async () => {
  localCt = await startLocalCt('emblem-authority-publish-test-');
});

after(() => localCt.close());

function dig(port: number, name: string, type: string): string[] {
  const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+short', '+norecurse', name, type], { env: thirdPartyEnv(), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

const ihleBytes = (line: string): Buffer => {
  const m = /^\\# \d+ ([0-9a-fA-F ]+)$/.exec(line);
  assert.ok(m, line);
  return Buffer.from(m[1]!.replace(/ /g, ''), 'hex');
};

test('authority publish: the key (adem-key TXT, COSE_Key IHLE) and its binding (self-endorsement with log) in the authority zone via RFC 2136 (Knot)', { timeout: 120_000 }, async (t) => {
  if (spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen && command -v dig'], { env: thirdPartyEnv() }).status !== 0) return t.skip('knotd/tsig-keygen/dig missing');
  const primary = await startKnotPrimary('authority.example');
  try {
    const dir = join(localCt.dir, 'authority');
    // Without channels: a clear error.
    const bare = join(localCt.dir, 'bare');
    assert.equal((await cli(['authority', 'init', '--dir', bare, '--authority', AUTHORITY, '--yes'])).code, 0);
    const none = await cli(['authority', 'publish', '--dir', bare, '--at', T0]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /CONFIG_INVALID/);

    const init = await cli(['authority', 'init', '--dir', dir, '--authority', AUTHORITY, '--publish', `rfc2136://127.0.0.1:${primary.port}/authority.example`, '--tsig-key', primary.keyFile,
      '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--yes', '--json']);
    assert.equal(init.code, 0, init.stderr);
    const { kid, coseKid, bindingNames } = JSON.parse(init.stdout) as { kid: string; coseKid: string; bindingNames: string[] };
    const config = JSON.parse(readFileSync(join(dir, 'emblem-authority.json'), 'utf8')) as { channels: Array<{ url: string; tsigKey: string }> };
    assert.equal(config.channels[0]!.url, `rfc2136://127.0.0.1:${primary.port}/authority.example`);
    assert.equal(config.channels[0]!.tsigKey, primary.keyFile);

    // No binding yet: nothing validators could check.
    const early = await cli(['authority', 'publish', '--dir', dir, '--at', T0]);
    assert.equal(early.code, 2);
    assert.match(early.stderr, /BINDING_MISSING/);
    await setLocalBinding(localCt, cli, 'authority', dir, bindingNames);

    const pub = await cli(['authority', 'publish', '--dir', dir, '--at', T0, '--json']);
    assert.equal(pub.code, 0, pub.stderr + pub.stdout);
    const r = JSON.parse(pub.stdout) as { name: string; added: number; removed: number; kid: string };
    assert.deepEqual([r.name, r.added, r.removed, r.kid], ['authority.example', 4, 0, kid]);

    const pubJwk = JSON.parse(readFileSync(join(dir, 'keys/root.pub.jwk'), 'utf8')) as JsonWebKey;
    const txt = dig(primary.port, 'authority.example', 'TXT').map((l) => joinTxtPresentation(l)).filter((v) => v.startsWith('adem-'));
    assert.equal(txt.length, 2, txt.join('\n'));
    const keyTxt = txt.find((v) => v.startsWith('adem-key='))!;
    assert.equal(parsePublicJwk(JSON.parse(keyTxt.slice('adem-key='.length))).jwsKid, kid, 'adem-key= is the authority key');
    const jws = parseJwsToken(txt.find((v) => v.startsWith('adem-token='))!.slice('adem-token='.length));
    assert.deepEqual([jws.kind, jws.claims.key, jws.headerKid, jws.claims.iss, jws.claims.end], ['endorsement', kid, kid, AUTHORITY, true]);
    assert.equal(jws.claims.log?.length, 1, 'the binding\'s log entry');

    const ihle = dig(primary.port, 'authority.example', 'TYPE65400').map(ihleBytes);
    assert.equal(ihle.length, 2);
    assert.ok(ihle.some((b) => b.equals(coseKeyFromJwk(pubJwk))), 'the COSE_Key of the authority key');
    const cwt = parseCwtToken(new Uint8Array(ihle.find((b) => !b.equals(coseKeyFromJwk(pubJwk)))!));
    assert.deepEqual([cwt.kind, cwt.claims.key, cwt.headerKid, cwt.claims.sub], ['endorsement', coseKid, coseKid, AUTHORITY]);
    assert.equal(cwt.claims.log?.length, 1);

    // Again, later: the self-endorsements are replaced, the key records stay.
    const again = JSON.parse((await cli(['authority', 'publish', '--dir', dir, '--at', '2026-12-01T12:00:00Z', '--json'])).stdout) as { added: number; removed: number };
    assert.deepEqual([again.added, again.removed], [2, 2]);
    assert.equal(dig(primary.port, 'authority.example', 'TYPE65400').length, 2);
    assert.equal(dig(primary.port, 'authority.example', 'TXT').filter((l) => l.includes('adem-')).length, 2);
  } finally {
    await primary.stop();
  }
});
