import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { installNodeSignatureVerifier } from '../../src/crypto/node-signature-verifier.js';
import { issueBindingCertificate } from '../../src/ct/local-ca.js';
import { applyAll } from '../../src/org/apply.js';
import { openRuntime } from '../../src/org/runtime.js';
import { loadState } from '../../src/org/state.js';
import { runCli } from '../helpers/cli.js';
import { setLocalBinding, startLocalCt, type LocalCt } from '../helpers/local-ct.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { startBindPrimary, startKnotPrimary, type Primary } from './primaries.js';

const T0 = '2026-11-01T12:00:00Z';
const at = (days: number) => new Date(Date.parse(T0) + days * 86_400_000).toISOString();

installNodeSignatureVerifier();

let localCt: LocalCt;
const env = () => ({ EMBLEM_CACHE_DIR: join(localCt.dir, 'cache'), EMBLEM_PASSPHRASE: 'correct horse battery staple' });

before(async () => {
  localCt = await startLocalCt('emblem-org-test-');
});

after(() => localCt.close());

function dig(port: number, name: string, type: string): string {
  return spawnSync('dig', ['+short', '+norec', '-p', String(port), '@127.0.0.1', name, type], { env: thirdPartyEnv(), encoding: 'utf8', timeout: 10_000 }).stdout;
}

const cli = (args: string[]) => runCli(args, { env: env(), timeoutMs: 60_000 });
const org = (args: string[]) => cli(['org', ...args]);

/** init -> set-binding (local CA + local CT log instead of ACME) -> plan -> apply -> check -> renew -> withdraw. */
async function flow(primary: Primary, name: string): Promise<void> {
  const dir = join(localCt.dir, name);
  const url = `rfc2136://127.0.0.1:${primary.port}/${primary.zone}`;
  const init = await org(['init', '--dir', dir, '--org', `https://${primary.zone}`, '--asset', `clinic.${primary.zone}`, '--asset', `ward.${primary.zone}`,
    '--publish', url, '--tsig-key', primary.keyFile, '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--lifetime', '7d', '--ttl', '60', '--yes', '--json']);
  assert.equal(init.code, 0, init.stderr);
  const { rootKid } = JSON.parse(init.stdout) as { rootKid: string };
  assert.match(readFileSync(join(dir, 'keys/root.jwk'), 'utf8'), /^ey[^.]*\.[^.]*\.[^.]*\.[^.]*\.[^.]*$/m, 'root key encrypted at rest (JWE)');

  // Without a binding certificate apply refuses (lint error) and changes nothing.
  const refused = await org(['apply', '--dir', dir, '--at', T0, '--json']);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /BINDING_MISSING/);
  assert.equal(dig(primary.port, `clinic.${primary.zone}`, 'TXT').trim(), '');

  await setLocalBinding(localCt, cli, 'org', dir, { host: primary.zone, kid: rootKid });

  const planned = await org(['plan', '--dir', dir, '--at', T0, '--json']);
  assert.equal(planned.code, 0, planned.stderr);
  const actions = (JSON.parse(planned.stdout) as { actions: Array<{ kind: string; assets?: string[] }> }).actions;
  assert.deepEqual(actions.map((a) => a.kind), ['sign']);
  assert.deepEqual(actions[0]!.assets, [`clinic.${primary.zone}`, `ward.${primary.zone}`]);

  const applied = await org(['apply', '--dir', dir, '--at', T0, '--json']);
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  const result = JSON.parse(applied.stdout) as { ok: boolean; assets: Array<{ asset: string; ok: boolean; level: string }> };
  assert.equal(result.ok, true);
  assert.deepEqual(result.assets.map((a) => a.level), ['ORGANIZATIONAL-UNTRUSTED', 'ORGANIZATIONAL-UNTRUSTED']);

  const check = await runCli(['check', `clinic.${primary.zone}`, '--resolver', `127.0.0.1:${primary.port}`, '--log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--at', at(0.1), '--json'], { env: env() });
  const report = JSON.parse(check.stdout) as { status: string; level: string; sets: Array<{ commitment?: unknown; result: string[] }> };
  assert.equal(report.status, 'protected', check.stdout);
  assert.equal(report.level, 'ORGANIZATIONAL-UNTRUSTED');
  assert.match(check.stdout, /"verified"/);

  // Nothing to do until the renewal margin; plan says so.
  const idle = await org(['plan', '--dir', dir, '--at', at(1), '--json']);
  assert.deepEqual((JSON.parse(idle.stdout) as { actions: unknown[] }).actions, []);

  const status = JSON.parse((await org(['status', '--dir', dir, '--at', at(1), '--json'])).stdout) as { assets: Array<Record<string, unknown>> };
  assert.deepEqual(Object.keys(status.assets[0]!).slice(0, 6), ['asset', 'status', 'level', 'validUntil', 'nextRenewal', 'channels']);
  assert.equal(status.assets[0]!.status, 'published');
  assert.equal(status.assets[0]!.level, 'ORGANIZATIONAL-UNTRUSTED');
  assert.equal(status.assets[0]!.validUntil, at(7).replace(/\.\d+Z$/, '.000Z'));

  // Day 6: inside the margin (7d / 3): a new set g2 is signed, published next to g1, verified, then g1 retired.
  const renewed = await org(['apply', '--dir', dir, '--at', at(5.5), '--json']);
  assert.equal(renewed.code, 0, renewed.stderr);
  const txt = dig(primary.port, `clinic.${primary.zone}`, 'TXT');
  assert.match(txt, /adem-token-g2=/);
  assert.doesNotMatch(txt, /adem-token-g1=/);
  const later = await runCli(['check', `clinic.${primary.zone}`, '--resolver', `127.0.0.1:${primary.port}`, '--log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--at', at(8), '--json'], { env: env() });
  assert.equal(JSON.parse(later.stdout).status, 'protected');

  // Emblem-key rotation: the next apply re-signs with the new key (g3), then retires g2; only the new key is left.
  const oldX = (JSON.parse(readFileSync(join(dir, 'keys/emblem.pub.jwk'), 'utf8')) as { x: string }).x;
  const rotated = await org(['rotate', '--dir', dir, '--emblem-key', '--at', at(5.6), '--json']);
  assert.equal(rotated.code, 0, rotated.stderr);
  // The sets on the air are the old key's: due now, days before their renewal time.
  const due = JSON.parse((await org(['status', '--dir', dir, '--at', at(5.6), '--offline', '--json'])).stdout) as { assets: Array<{ nextRenewal: string }> };
  assert.deepEqual(due.assets.map((a) => a.nextRenewal), [at(5.6), at(5.6)]);
  // Knot: the daemon's path (scheduler) re-signs at once; BIND: apply (planner).
  const rot = await org(primary.name === 'knot' ? ['run', '--dir', dir, '--once', '--at', at(5.6)] : ['apply', '--dir', dir, '--at', at(5.6), '--json']);
  assert.equal(rot.code, 0, rot.stderr + rot.stdout);
  const afterRotation = dig(primary.port, `clinic.${primary.zone}`, 'TXT');
  assert.match(afterRotation, /adem-token-g3=/);
  assert.doesNotMatch(afterRotation, /adem-token-g2=/);
  assert.doesNotMatch(afterRotation, new RegExp(oldX.replace(/[-]/g, '\\-')));
  const cfgNow = readFileSync(join(dir, 'emblem-org.yaml'), 'utf8');
  const newPub = /emblem:\s+file: (keys\/emblem-[^\s]+\.jwk)\s+public: ([^\s]+)/.exec(cfgNow)!;
  assert.ok(afterRotation.includes((JSON.parse(readFileSync(join(dir, newPub[2]!), 'utf8')) as { x: string }).x));

  // Wrong TSIG secret: a clear error naming the server; the published records stay as they were.
  const cfgPath = join(dir, 'emblem-org.yaml');
  const badKey = join(dir, 'bad.key');
  writeFileSync(badKey, readFileSync(primary.keyFile, 'utf8').replace(/secret "[^"]+"/, `secret "${Buffer.alloc(32, 9).toString('base64')}"`));
  const goodCfg = readFileSync(cfgPath, 'utf8');
  writeFileSync(cfgPath, goodCfg.replace(primary.keyFile, badKey));
  const bad = await org(['apply', '--dir', dir, '--at', at(11), '--json']);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /TSIG_BADSIG/);
  assert.match(bad.stdout, new RegExp(`127\\.0\\.0\\.1:${primary.port}`));
  assert.match(dig(primary.port, `clinic.${primary.zone}`, 'TXT'), /adem-token-g3=/);
  writeFileSync(cfgPath, goodCfg);

  // Withdraw everything: gone from the primary at once; check says no-emblem; status shows withdrawn.
  const wd = await org(['withdraw', '--dir', dir, '--all', '--at', at(6), '--json']);
  assert.equal(wd.code, 0, wd.stderr);
  const w = JSON.parse(wd.stdout) as { ok: boolean; cacheHorizonSeconds: number; remaining: Array<{ records: number }> };
  assert.equal(w.ok, true);
  assert.equal(w.cacheHorizonSeconds, 60);
  // The 5 s goal for withdraw --all is measured by `npm run bench org` (1,000 assets), not asserted here.
  assert.equal(dig(primary.port, `clinic.${primary.zone}`, 'TXT').trim(), '');
  const gone = await runCli(['check', `clinic.${primary.zone}`, '--resolver', `127.0.0.1:${primary.port}`, '--skip-commitment-check', '--at', at(6), '--json'], { env: env() });
  assert.equal(JSON.parse(gone.stdout).status, 'no-emblem');
  // Status: withdrawn, and the cache horizon (withdrawal time + TTL 60 s), saved at withdrawal time.
  const horizon = new Date(Date.parse(at(6)) + 60_000).toISOString();
  const st = JSON.parse((await org(['status', '--dir', dir, '--at', at(6.5), '--json'])).stdout) as { assets: Array<Record<string, unknown>> };
  assert.deepEqual(Object.keys(st.assets[0]!).slice(0, 6), ['asset', 'status', 'level', 'validUntil', 'nextRenewal', 'channels']);
  assert.deepEqual(st.assets.map((a) => a.status), ['withdrawn', 'withdrawn']);
  assert.deepEqual(st.assets.map((a) => a.cacheHorizon), [horizon, horizon]);
  assert.deepEqual(st.assets.map((a) => a.nextRenewal), [null, null]);
  const stText = await org(['status', '--dir', dir, '--at', at(6.5)]);
  assert.match(stText.stdout, new RegExp(`clinic\\.${primary.zone.replace(/\./g, '\\.')}: withdrawn at ${at(6).replace(/\.\d+Z$/, '')}.*until ${horizon.replace(/\./g, '\\.')} \\(cache horizon\\)`));
  // Withdrawing again (nothing left to remove) keeps the first withdrawal time and its horizon.
  assert.equal((await org(['withdraw', '--dir', dir, '--all', '--at', at(6.2), '--json'])).code, 0);
  const again = JSON.parse((await org(['status', '--dir', dir, '--at', at(6.5), '--json'])).stdout) as { assets: Array<Record<string, unknown>> };
  assert.deepEqual(again.assets.map((a) => [a.withdrawnAt, a.cacheHorizon]), st.assets.map((a) => [a.withdrawnAt, a.cacheHorizon]));
  // Withdrawn assets are not renewed.
  const after = await org(['plan', '--dir', dir, '--at', at(30), '--json']);
  assert.deepEqual((JSON.parse(after.stdout) as { actions: unknown[] }).actions, []);

  // org enable undoes the withdrawal of one asset: the next apply signs and publishes it again; the other stays away.
  const enabled = await org(['enable', '--dir', dir, '--asset', `clinic.${primary.zone}`, '--at', at(30), '--json']);
  assert.equal(enabled.code, 0, enabled.stderr);
  assert.deepEqual((JSON.parse(enabled.stdout) as { enabled: string[] }).enabled, [`clinic.${primary.zone}`]);
  const replanned = JSON.parse((await org(['plan', '--dir', dir, '--at', at(30), '--json'])).stdout) as { actions: Array<{ kind: string; assets?: string[] }> };
  assert.deepEqual(replanned.actions.map((a) => [a.kind, a.assets]), [['sign', [`clinic.${primary.zone}`]]]);
  const back = await org(['apply', '--dir', dir, '--at', at(30), '--json']);
  assert.equal(back.code, 0, back.stderr + back.stdout);
  assert.match(dig(primary.port, `clinic.${primary.zone}`, 'TXT'), /adem-token-g\d+=/);
  assert.equal(dig(primary.port, `ward.${primary.zone}`, 'TXT').trim(), '');
  const st2 = JSON.parse((await org(['status', '--dir', dir, '--at', at(30.1), '--json'])).stdout) as { assets: Array<{ status: string }> };
  assert.deepEqual(st2.assets.map((a) => a.status), ['published', 'withdrawn']);
  assert.equal((await org(['enable', '--dir', dir, '--asset', 'nope.example', '--at', at(30)])).code, 2);
}

test('emblem org against Knot: init, set-binding, plan, apply (verified on the primary), renew, bad TSIG, withdraw', { timeout: 180_000 }, async (t) => {
  if (spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen'], { env: thirdPartyEnv() }).status !== 0) return t.skip('knotd/tsig-keygen missing');
  const primary = await startKnotPrimary();
  try {
    await flow(primary, 'knot');
  } finally {
    await primary.stop();
  }
});

test('emblem org against BIND: the same flow', { timeout: 180_000 }, async (t) => {
  if (spawnSync('sh', ['-c', 'command -v named && command -v tsig-keygen'], { env: thirdPartyEnv() }).status !== 0) return t.skip('named/tsig-keygen missing');
  const primary = await startBindPrimary();
  try {
    await flow(primary, 'bind');
  } finally {
    await primary.stop();
  }
});

test('config errors name the field; an unreachable channel names the server and changes nothing', { timeout: 60_000 }, async () => {
  const dir = join(localCt.dir, 'bad');
  const init = await org(['init', '--dir', dir, '--org', 'https://hospital.example', '--asset', 'clinic.hospital.example', '--publish', 'rfc2136://127.0.0.1:1/hospital.example', '--yes']);
  assert.equal(init.code, 0, init.stderr);
  const cfgPath = join(dir, 'emblem-org.yaml');
  const good = readFileSync(cfgPath, 'utf8');
  writeFileSync(cfgPath, `${good}colour: blue\n`);
  let r = await org(['plan', '--dir', dir, '--at', T0]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /config\.colour: unknown key \[CONFIG_INVALID\]/);
  writeFileSync(cfgPath, good.replace('ttl: 300', 'ttl: "long"'));
  r = await org(['plan', '--dir', dir, '--at', T0]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /config\.ttl: expected integer, got string/);
  writeFileSync(cfgPath, good);
  r = await org(['plan', '--dir', dir, '--at', T0]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /127\.0\.0\.1:1.*DNS_UPDATE_UNREACHABLE/);
  // init never overwrites.
  const again = await org(['init', '--dir', dir, '--org', 'https://hospital.example', '--publish', 'octodns:x.yaml', '--yes']);
  assert.equal(again.code, 2);
  assert.equal(readFileSync(cfgPath, 'utf8'), good);
});

test('era both against Knot: JWS under identifiers, CWT IHLE set swapped atomically on renewal; both verify', { timeout: 180_000 }, async (t) => {
  if (spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen'], { env: thirdPartyEnv() }).status !== 0) return t.skip('knotd/tsig-keygen missing');
  const primary = await startKnotPrimary();
  try {
    const dir = join(localCt.dir, 'both');
    const init = await org(['init', '--dir', dir, '--org', `https://${primary.zone}`, '--asset', `clinic.${primary.zone}`, '--era', 'both',
      '--publish', `rfc2136://127.0.0.1:${primary.port}/${primary.zone}`, '--tsig-key', primary.keyFile, '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--lifetime', '7d', '--ttl', '60', '--yes', '--json']);
    assert.equal(init.code, 0, init.stderr);
    const { bindingNames } = JSON.parse(init.stdout) as { bindingNames: string[] };
    assert.equal(bindingNames.length, 4, 'both eras\' kids in the SANs');
    const { issueLoggedCertificate } = await import('../../src/ct/local-ca.js');
    await setLocalBinding(localCt, cli, 'org', dir, bindingNames);
    for (const [when, label] of [[0, 'first'], [5.5, 'renewal']] as const) {
      const applied = await org(['apply', '--dir', dir, '--at', at(when), '--json']);
      assert.equal(applied.code, 0, `${label}: ${applied.stderr}${applied.stdout}`);
      for (const era of ['jws', 'cwt']) {
        const check = await runCli(['check', `clinic.${primary.zone}`, '--era', era, '--resolver', `127.0.0.1:${primary.port}`, '--log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--at', at(when + 0.1), '--json'], { env: env() });
        const r = JSON.parse(check.stdout) as { status: string; level: string };
        assert.equal(r.status, 'protected', `${label} ${era}: ${check.stdout.slice(0, 400)}`);
      }
    }
    // One IHLE set only (the old CWT emblem went in the same UPDATE that added the new one).
    const ihle = dig(primary.port, `clinic.${primary.zone}`, 'TYPE65400').trim().split('\n');
    assert.equal(ihle.length, 4, 'CWT emblem, root endorsement, two COSE keys');
  } finally {
    await primary.stop();
  }
});

test('root-key rotation against Knot: apply refuses until the new key has a binding (old sets stay), then only the new root is published', { timeout: 180_000 }, async (t) => {
  if (spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen && command -v dig'], { env: thirdPartyEnv() }).status !== 0) return t.skip('knot not installed');
  const primary = await startKnotPrimary();
  try {
    const dir = join(localCt.dir, 'root-rotation');
    const init = await org(['init', '--dir', dir, '--org', `https://${primary.zone}`, '--asset', `clinic.${primary.zone}`,
      '--publish', `rfc2136://127.0.0.1:${primary.port}/${primary.zone}`, '--tsig-key', primary.keyFile, '--ct-log-list', localCt.ctLog.logListUrl,
      '--ca-bundle', localCt.caBundle, '--lifetime', '7d', '--ttl', '60', '--yes', '--json']);
    assert.equal(init.code, 0, init.stderr);
    const bind = async (kid: string, tag: string) => {
      const logged = await issueBindingCertificate(localCt.ca, localCt.ctLog.url, { host: primary.zone, kid });
      writeFileSync(join(dir, `chain-${tag}.pem`), logged.chainPem);
      writeFileSync(join(dir, `log-${tag}.json`), JSON.stringify([logged.v1]));
      const r = await org(['set-binding', '--dir', dir, '--chain', join(dir, `chain-${tag}.pem`), '--log', join(dir, `log-${tag}.json`)]);
      assert.equal(r.code, 0, r.stderr);
    };
    const oldKid = (JSON.parse(init.stdout) as { rootKid: string }).rootKid;
    await bind(oldKid, 'old');
    assert.equal((await org(['apply', '--dir', dir, '--at', T0, '--json'])).code, 0);
    const oldRootX = (JSON.parse(readFileSync(join(dir, 'keys/root.pub.jwk'), 'utf8')) as { x: string }).x;
    const before = dig(primary.port, `clinic.${primary.zone}`, 'TXT');
    assert.ok(before.includes(oldRootX), 'the old root key is published');

    const rotated = await org(['rotate', '--dir', dir, '--root-key', '--at', at(1), '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const r = JSON.parse(rotated.stdout) as { kid: string; previousKid: string; bindingNames: string[]; place: { kind: string; file: string } };
    assert.equal(r.previousKid, oldKid);
    assert.notEqual(r.kid, oldKid);
    assert.ok(r.bindingNames.includes(`${r.kid}.adem-configuration.${primary.zone}`));
    assert.match(readFileSync(join(dir, 'keys/root.jwk'), 'utf8'), /^ey/, 'the old root key file is kept');
    assert.match(readFileSync(join(dir, r.place.file), 'utf8'), /^ey/, 'the new root key is encrypted at rest');
    assert.match(readFileSync(join(dir, 'emblem-org.yaml'), 'utf8'), /previousRoot:\s+file: keys\/root\.jwk/);

    // The binding certificate names the old kid: nothing is signed, the published set stays as it was.
    const stale = await org(['apply', '--dir', dir, '--at', at(1), '--json']);
    assert.equal(stale.code, 2, stale.stdout);
    assert.match(stale.stderr + stale.stdout, /BINDING_STALE/);
    assert.equal(dig(primary.port, `clinic.${primary.zone}`, 'TXT'), before);

    await bind(r.kid, 'new');
    const applied = await org(['apply', '--dir', dir, '--at', at(1), '--json']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const txt = dig(primary.port, `clinic.${primary.zone}`, 'TXT');
    const newRootX = (JSON.parse(readFileSync(join(dir, r.place.file.replace(/\.jwk$/, '.pub.jwk')), 'utf8')) as { x: string }).x;
    assert.ok(txt.includes(newRootX), 'the new root key is published');
    assert.ok(!txt.includes(oldRootX), 'the old root key is retired');
    assert.match(txt, /adem-token-g2=/);
    assert.doesNotMatch(txt, /adem-token-g1=/);
    const check = await runCli(['check', `clinic.${primary.zone}`, '--resolver', `127.0.0.1:${primary.port}`, '--log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--at', at(1.1), '--json'], { env: env() });
    const report = JSON.parse(check.stdout) as { status: string; level: string };
    assert.equal(report.status, 'protected', check.stdout);
    assert.equal(report.level, 'ORGANIZATIONAL-UNTRUSTED');
    assert.match(check.stdout, /"verified"/);
  } finally {
    await primary.stop();
  }
});

test('a withdrawal during a daemon step is not undone: the step\'s state write keeps it and nothing is republished', { timeout: 120_000 }, async (t) => {
  if (spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen'], { env: thirdPartyEnv() }).status !== 0) return t.skip('knotd/tsig-keygen missing');
  const primary = await startKnotPrimary();
  try {
    const dir = join(localCt.dir, 'race');
    const name = `clinic.${primary.zone}`;
    const init = await org(['init', '--dir', dir, '--org', `https://${primary.zone}`, '--asset', name, '--publish', `rfc2136://127.0.0.1:${primary.port}/${primary.zone}`,
      '--tsig-key', primary.keyFile, '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--lifetime', '7d', '--ttl', '60', '--yes', '--json']);
    assert.equal(init.code, 0, init.stderr);
    await setLocalBinding(localCt, cli, 'org', dir, { host: primary.zone, kid: (JSON.parse(init.stdout) as { rootKid: string }).rootKid });
    assert.equal((await org(['apply', '--dir', dir, '--at', T0, '--json'])).code, 0);
    assert.match(dig(primary.port, name, 'TXT'), /adem-token-g1=/);

    // org run read the state, then (while it works on the due renewal) the operator withdraws everything.
    const daemonCopy = await loadState(dir);
    const wd = await org(['withdraw', '--dir', dir, '--all', '--at', at(5.5), '--json']);
    assert.equal(wd.code, 0, wd.stderr + wd.stdout);
    assert.equal(dig(primary.port, name, 'TXT').trim(), '');

    // The daemon's step from its older copy (renewal due at day 5.5), in this process like org run does it.
    process.env.EMBLEM_CACHE_DIR = join(localCt.dir, 'cache');
    const rt = await openRuntime(dir, { now: Math.floor(Date.parse(at(5.5)) / 1000), passphrase: env().EMBLEM_PASSPHRASE });
    const outcomes = await applyAll(rt, daemonCopy, new Set([name]));
    assert.deepEqual(outcomes, [], 'a withdrawn asset has no outcome');
    assert.equal(dig(primary.port, name, 'TXT').trim(), '', 'not republished');
    const disk = await loadState(dir);
    assert.equal(disk.assets[name]!.withdrawn, true, 'the withdrawal flag survived the daemon\'s write');
    assert.equal(disk.assets[name]!.pending, null);

    // And org run itself, days later: nothing is signed or published for the withdrawn asset.
    const run = await org(['run', '--dir', dir, '--once', '--at', at(9)]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.doesNotMatch(run.stdout, /"event":"signed"/);
    assert.equal(dig(primary.port, name, 'TXT').trim(), '');
    const st = JSON.parse((await org(['status', '--dir', dir, '--at', at(9), '--json'])).stdout) as { assets: Array<{ status: string }> };
    assert.deepEqual(st.assets.map((a) => a.status), ['withdrawn']);
  } finally {
    await primary.stop();
  }
});
