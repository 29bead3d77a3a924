import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { installNodeSignatureVerifier } from '../../src/crypto/node-signature-verifier.js';
import { verifyMaterial } from '../../src/core/verify/index.js';
import { createLocalCa, issueBindingCertificate } from '../../src/ct/local-ca.js';
import { startLocalCtLog } from '../../src/ct/local-log/start-local-ct-log.js';
import { ctCheckerFromOptions } from '../../src/cli/commitment-options.js';
import { checkName } from '../../src/dns/name-check.js';
import { CLI, runCli } from '../helpers/cli.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { tempDir } from '../dns/servers.js';
import { parsePublicJwk } from '../../src/core/tokens/keys.js';
import { startKnotPrimary } from './primaries.js';
import { publishedKids, type PublishedKids } from './published-kids.js';

installNodeSignatureVerifier();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Acceptance 2 (shortened): `org run` against Knot with a 30 s lifetime and a 15 s margin, a checker asking the
 * primary every second; the daemon is killed with SIGKILL once and restarted after 5 s, then stopped with SIGTERM.
 * Every answer must be `protected`. This test runs in real time (the daemon's own clock), relative to now only.
 */
test('org run: renewal without a gap across SIGKILL and restart; emblem-key rotation (published kids: old, old+new, new); SIGTERM stops cleanly', { timeout: 150_000 }, async (t) => {
  if (spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen'], { env: thirdPartyEnv() }).status !== 0) return t.skip('knotd missing');
  const work = tempDir('emblem-org-run-');
  const primary = await startKnotPrimary();
  const ca = await createLocalCa();
  const ctLog = await startLocalCtLog({ roots: [ca.certificate] });
  // The binding chain ends at the local CA: the org's verification trusts it instead of the system bundle.
  writeFileSync(join(work.path, 'ca.pem'), ca.pem);
  const env = { EMBLEM_CACHE_DIR: join(work.path, 'cache'), EMBLEM_PASSPHRASE: 'pw' };
  const dir = join(work.path, 'org');
  const children: ChildProcess[] = [];
  try {
    const init = await runCli(['org', 'init', '--dir', dir, '--org', `https://${primary.zone}`, '--asset', `clinic.${primary.zone}`, '--publish', `rfc2136://127.0.0.1:${primary.port}/${primary.zone}`,
      '--tsig-key', primary.keyFile, '--ct-log-list', ctLog.logListUrl, '--ca-bundle', join(work.path, 'ca.pem'), '--lifetime', '30s', '--renew-before', '15s', '--ttl', '5', '--yes', '--json'], { env });
    assert.equal(init.code, 0, init.stderr);
    const logged = await issueBindingCertificate(ca, ctLog.url, { host: primary.zone, kid: (JSON.parse(init.stdout) as { rootKid: string }).rootKid });
    writeFileSync(join(dir, 'chain.pem'), logged.chainPem);
    writeFileSync(join(dir, 'log.json'), JSON.stringify([logged.v1]));
    assert.equal((await runCli(['org', 'set-binding', '--dir', dir, '--chain', join(dir, 'chain.pem'), '--log', join(dir, 'log.json')], { env })).code, 0);
    const once = await runCli(['org', 'run', '--dir', dir, '--once'], { env, timeoutMs: 60_000 });
    assert.equal(once.code, 0, once.stdout + once.stderr);
    assert.match(once.stdout, /"event":"verified"/);

    const checker = ctCheckerFromOptions({ logList: [ctLog.logListUrl], caBundle: join(work.path, 'ca.pem') });
    const answers: string[] = [];
    let checking = true;
    const loop = (async () => {
      while (checking) {
        const r = await checkName(`clinic.${primary.zone}`, { resolver: { kind: 'udp', host: '127.0.0.1', port: primary.port }, era: 'any', ihleType: 65400, timeoutMs: 2000, attempts: 2 }, (m) =>
          verifyMaterial(m, { now: new Date(), commitments: checker }),
        );
        answers.push(r.status === "error" ? `error:${JSON.stringify(r.errors)}` : r.status);
        await sleep(1000);
      }
    })();
    const start = () => {
      const c = spawn(process.execPath, [CLI, 'org', 'run', '--dir', dir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout!.on('data', (d) => (out += d));
      children.push(c);
      return { child: c, out: () => out };
    };
    const first = start();
    await sleep(22_000);
    first.child.kill('SIGKILL');
    await sleep(5_000);
    const second = start();
    await sleep(5_000);
    // Emblem-key rotation under run: the daemon picks up the new key, both are published during the overlap.
    const oldJwk = JSON.parse(readFileSync(join(dir, 'keys/emblem.pub.jwk'), 'utf8')) as { x: string };
    const oldX = oldJwk.x;
    const oldKid = parsePublicJwk(oldJwk).jwsKid;
    const rootKid = (JSON.parse(init.stdout) as { rootKid: string }).rootKid;
    // What Knot publishes, decoded (emblem JWS header kids, endorsed keys, published JWKs), polled continuously so
    // the overlap (new set verified, old not yet retired) is seen; kept as the sequence of distinct snapshots.
    const snapshots: PublishedKids[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const k = await publishedKids('127.0.0.1', primary.port, `clinic.${primary.zone}`);
        const last = snapshots.at(-1);
        if (!last || JSON.stringify(last) !== JSON.stringify(k)) snapshots.push(k);
        await sleep(10);
      }
    })();
    const rotated = await runCli(['org', 'rotate', '--dir', dir, '--emblem-key', '--json'], { env });
    assert.equal(rotated.code, 0, rotated.stderr);
    const newKid = (JSON.parse(rotated.stdout) as { kid: string; previousKid: string }).kid;
    assert.equal((JSON.parse(rotated.stdout) as { previousKid: string }).previousKid, oldKid);
    await sleep(17_000);
    second.child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => second.child.once('exit', (c) => resolve(c)));
    checking = false;
    polling = false;
    await loop;
    await poller;
    // Every snapshot is consistent: each emblem key that signed is endorsed by the root key and published.
    for (const s of snapshots) {
      assert.deepEqual(s.endorsed, s.emblem, JSON.stringify(s));
      assert.deepEqual(s.keys, [...s.emblem, rootKid].sort(), JSON.stringify(s));
    }
    // Old key only -> both during the overlap -> new key only, and the old one never comes back.
    const seq = snapshots.map((s) => s.emblem.join(',')).filter((x, i, all) => i === 0 || all[i - 1] !== x);
    assert.deepEqual(seq, [oldKid, [oldKid, newKid].sort().join(','), newKid], JSON.stringify(snapshots));
    assert.equal(code, 0);
    assert.match(second.out(), /"event":"stopped"/);
    assert.match(first.out() + second.out(), /"event":"signed"/);
    assert.ok(answers.length >= 35, `${answers.length} answers`);
    assert.deepEqual([...new Set(answers)], ['protected'], answers.join(','));
    const txt = spawnSync('dig', ['+short', '+norec', '-p', String(primary.port), '@127.0.0.1', `clinic.${primary.zone}`, 'TXT'], { env: thirdPartyEnv(), encoding: 'utf8' }).stdout;
    assert.ok(!txt.includes(oldX), 'the old emblem key is retired');
    assert.match(second.out(), /"event":"signed"/);
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await ctLog.close();
    await primary.stop();
    work.remove();
  }
});
