import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { issueBindingCertificate } from '../../src/ct/local-ca.js';
import { runCli } from '../helpers/cli.js';
import { setLocalBinding, startLocalCt, type LocalCt } from '../helpers/local-ct.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { startKnotPrimary } from '../org/primaries.js';

const T0 = '2026-11-01T12:00:00Z';
const at = (days: number) => new Date(Date.parse(T0) + days * 86_400_000).toISOString();
const AUTHORITY = 'https://authority.example';

let localCt: LocalCt;
const env = () => ({ EMBLEM_CACHE_DIR: join(localCt.dir, 'cache'), EMBLEM_PASSPHRASE: 'correct horse battery staple' });
const cli = (args: string[]) => runCli(args, { env: env(), timeoutMs: 60_000 });

before(async () => {
  localCt = await startLocalCt('emblem-authority-test-');
});

after(() => localCt.close());

async function initAuthority(name: string): Promise<{ dir: string; kid: string }> {
  const dir = join(localCt.dir, name);
  const init = await cli(['authority', 'init', '--dir', dir, '--authority', AUTHORITY, '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--yes', '--json']);
  assert.equal(init.code, 0, init.stderr);
  const { kid } = JSON.parse(init.stdout) as { kid: string };
  assert.match(readFileSync(join(dir, 'keys/root.jwk'), 'utf8'), /^ey[^.]*\.[^.]*\.[^.]*\.[^.]*\.[^.]*$/m, 'authority root key encrypted at rest (JWE)');
  await setLocalBinding(localCt, cli, 'authority', dir, { host: 'authority.example', kid });
  return { dir, kid };
}

function dig(port: number, name: string, type: string): string {
  return spawnSync('dig', ['+short', '+norec', '-p', String(port), '@127.0.0.1', name, type], { env: thirdPartyEnv(), encoding: 'utf8', timeout: 10_000 }).stdout;
}

test('org request -> authority review (ok) -> grant -> org import -> apply -> check: ENDORSED-TRUSTED; registry list/show/renew/revoke', { timeout: 240_000 }, async (t) => {
  if (spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen'], { env: thirdPartyEnv() }).status !== 0) return t.skip('knotd/tsig-keygen missing');
  const primary = await startKnotPrimary();
  try {
    const zone = primary.zone;
    const orgDir = join(localCt.dir, 'org');
    const init = await cli(['org', 'init', '--dir', orgDir, '--org', `https://${zone}`, '--asset', `clinic.${zone}`, '--asset', `ward.${zone}`,
      '--publish', `rfc2136://127.0.0.1:${primary.port}/${zone}`, '--tsig-key', primary.keyFile, '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--lifetime', '7d', '--ttl', '60', '--yes', '--json']);
    assert.equal(init.code, 0, init.stderr);
    const { rootKid } = JSON.parse(init.stdout) as { rootKid: string };

    // Without a binding there is nothing an authority could check.
    const early = await cli(['org', 'request-endorsement', '--dir', orgDir, '--authority', AUTHORITY, '--out', join(localCt.dir, 'early.json'), '--at', T0]);
    assert.equal(early.code, 2);
    assert.match(early.stderr, /BINDING_MISSING/);
    await setLocalBinding(localCt, cli, 'org', orgDir, { host: zone, kid: rootKid });
    // The organisation publishes before it asks: its sets are self-endorsed until the import below.
    const first = await cli(['org', 'apply', '--dir', orgDir, '--at', T0, '--json']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.deepEqual((JSON.parse(first.stdout) as { assets: Array<{ level: string }> }).assets.map((a) => a.level), ['ORGANIZATIONAL-UNTRUSTED', 'ORGANIZATIONAL-UNTRUSTED']);

    const auth = await initAuthority('authority');
    const req = join(localCt.dir, 'req.json');
    const made = await cli(['org', 'request-endorsement', '--dir', orgDir, '--authority', AUTHORITY, '--constrain-purpose', 'protective', '--max-lifetime', '30d', '--contact', 'ops@hospital', '--out', req, '--at', T0, '--json']);
    assert.equal(made.code, 0, made.stderr);
    const request = JSON.parse(readFileSync(req, 'utf8')) as Record<string, unknown> & { rootKey: { kid: string }; constraints: { assets: string[] } };
    assert.equal(request.version, 1);
    assert.equal(request.rootKey.kid, rootKid);
    assert.deepEqual(request.constraints.assets, [`clinic.${zone}`, `ward.${zone}`], 'default: the folder\'s assets');
    // Never overwritten.
    assert.equal((await cli(['org', 'request-endorsement', '--dir', orgDir, '--authority', AUTHORITY, '--out', req, '--at', T0])).code, 2);

    const review = await cli(['authority', 'review', '--dir', auth.dir, req, '--at', at(0.01), '--json']);
    assert.equal(review.code, 0, review.stderr + review.stdout);
    const rv = JSON.parse(review.stdout) as { verdict: string; commitment: string; findings: Array<{ code: string }> };
    assert.equal(rv.verdict, 'ok', review.stdout);
    assert.equal(rv.commitment, 'verified');
    assert.ok(rv.findings.some((f) => f.code === 'COMMITMENT_VERIFIED'));
    const text = await cli(['authority', 'review', '--dir', auth.dir, req, '--at', at(0.01)]);
    assert.match(text.stdout, /Verdict: ok/);
    assert.match(text.stdout, new RegExp(`clinic\\.${zone.replace('.', '\\.')}`));

    // A tampered request (wider assets) no longer matches its proof.
    const tampered = join(localCt.dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ ...request, constraints: { ...request.constraints, assets: [`*.${zone}`] } }));
    const tr = await cli(['authority', 'review', '--dir', auth.dir, tampered, '--at', at(0.01), '--json']);
    assert.equal(tr.code, 1);
    const trv = JSON.parse(tr.stdout) as { verdict: string; findings: Array<{ code: string }> };
    assert.equal(trv.verdict, 'refuse');
    assert.ok(trv.findings.some((f) => f.code === 'PROOF_OF_POSSESSION'));
    const tg = await cli(['authority', 'grant', '--dir', auth.dir, tampered, '--out', join(localCt.dir, 'tampered-resp.json'), '--at', at(0.01)]);
    assert.equal(tg.code, 2);
    assert.match(tg.stderr, /GRANT_REFUSED/);
    assert.equal(existsSync(join(localCt.dir, 'tampered-resp.json')), false);

    // Malformed and expired requests: errors with codes, exit 2.
    writeFileSync(join(localCt.dir, 'junk.json'), '{"version": 1}');
    const junk = await cli(['authority', 'review', '--dir', auth.dir, join(localCt.dir, 'junk.json'), '--at', at(0.01)]);
    assert.equal(junk.code, 2);
    assert.match(junk.stderr, /REQUEST_MALFORMED/);
    const old = await cli(['authority', 'review', '--dir', auth.dir, req, '--at', at(45)]);
    assert.equal(old.code, 2);
    assert.match(old.stderr, /REQUEST_EXPIRED/);

    // Granting never widens: an asset outside the request is refused, nothing recorded.
    const resp = join(localCt.dir, 'resp.json');
    const wide = await cli(['authority', 'grant', '--dir', auth.dir, req, '--constrain-asset', `*.${zone}`, '--out', resp, '--at', at(0.01)]);
    assert.equal(wide.code, 2);
    assert.match(wide.stderr, /CONSTRAINT_WIDENED/);
    assert.equal(existsSync(resp), false);
    const longer = await cli(['authority', 'grant', '--dir', auth.dir, req, '--max-lifetime', '60d', '--out', resp, '--at', at(0.01)]);
    assert.equal(longer.code, 2);
    assert.match(longer.stderr, /CONSTRAINT_WIDENED/);

    const grant = await cli(['authority', 'grant', '--dir', auth.dir, req, '--max-lifetime', '14d', '--lifetime', '365d', '--out', resp, '--at', at(0.01), '--json']);
    assert.equal(grant.code, 0, grant.stderr + grant.stdout);
    const granted = JSON.parse(grant.stdout) as { id: string; constraints: { maxLifetime: number; assets: string[] } };
    assert.equal(granted.constraints.maxLifetime, 14 * 86_400, 'narrowed');
    assert.deepEqual(granted.constraints.assets, [`clinic.${zone}`, `ward.${zone}`]);
    // The same request again is a replay.
    const replay = await cli(['authority', 'grant', '--dir', auth.dir, req, '--out', join(localCt.dir, 'resp2.json'), '--at', at(0.02)]);
    assert.equal(replay.code, 2);
    assert.match(replay.stderr, /NONCE_REPLAYED/);

    const imported = await cli(['org', 'import-endorsement', '--dir', orgDir, resp, '--at', at(0.02), '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(readFileSync(join(orgDir, 'emblem-org.yaml'), 'utf8'), /endorsements:\s+- endorsements\/authority\.example-/);

    // The published sets are far from their renewal, but they lack the new endorsement: apply re-signs them now.
    const planned = await cli(['org', 'plan', '--dir', orgDir, '--at', at(0.02), '--json']);
    assert.deepEqual((JSON.parse(planned.stdout) as { actions: Array<{ kind: string }> }).actions.map((a) => a.kind), ['sign'], planned.stdout);
    const applied = await cli(['org', 'apply', '--dir', orgDir, '--at', at(0.02), '--json']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    assert.match(dig(primary.port, `clinic.${zone}`, 'TXT'), /adem-token-g2=/);
    assert.doesNotMatch(dig(primary.port, `clinic.${zone}`, 'TXT'), /adem-token-g1=/);

    const check = await cli(['check', `clinic.${zone}`, '--resolver', `127.0.0.1:${primary.port}`, '--log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle,
      '--trusted-key', join(auth.dir, 'keys/root.pub.jwk'), '--at', at(0.1), '--json']);
    const report = JSON.parse(check.stdout) as { status: string; level: string; sets: Array<{ endorsedBy: string[] }> };
    assert.equal(report.status, 'protected', check.stdout);
    assert.equal(report.level, 'ENDORSED-TRUSTED', check.stdout);
    assert.ok(report.sets.some((s) => s.endorsedBy.includes(AUTHORITY)), check.stdout);
    // Without pinning the authority: endorsed, untrusted.
    const untrusted = await cli(['check', `clinic.${zone}`, '--resolver', `127.0.0.1:${primary.port}`, '--log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--at', at(0.1), '--json']);
    assert.equal((JSON.parse(untrusted.stdout) as { level: string }).level, 'ENDORSED-UNTRUSTED');

    // Registry: list, show, renew, revoke.
    const list = JSON.parse((await cli(['authority', 'list', '--dir', auth.dir, '--at', at(1), '--json'])).stdout) as { endorsements: Array<{ organization: string; kid: string; status: string; expires: string }> };
    assert.deepEqual(list.endorsements.map((e) => [e.organization, e.kid, e.status]), [[`https://${zone}`, rootKid, 'active']]);
    assert.equal(list.endorsements[0]!.expires, new Date(Date.parse(at(0.01)) + 365 * 86_400_000).toISOString().replace(/\.\d+Z$/, '.000Z'));
    const none = JSON.parse((await cli(['authority', 'list', '--dir', auth.dir, '--expiring', '30d', '--at', at(1), '--json'])).stdout) as { endorsements: unknown[] };
    assert.equal(none.endorsements.length, 0);
    const show = await cli(['authority', 'show', '--dir', auth.dir, zone, '--at', at(1), '--json']);
    assert.equal(show.code, 0, show.stderr);
    assert.equal((JSON.parse(show.stdout) as { endorsements: Array<{ id: string }> }).endorsements[0]!.id, granted.id);

    const renewed = await cli(['authority', 'renew', '--dir', auth.dir, '--all-expiring', '30d', '--at', at(340), '--json']);
    assert.equal(renewed.code, 0, renewed.stderr);
    const rn = JSON.parse(renewed.stdout) as { renewed: Array<{ previous: string; out: string; expires: string }> };
    assert.equal(rn.renewed.length, 1);
    assert.equal(rn.renewed[0]!.previous, granted.id);
    assert.ok(existsSync(rn.renewed[0]!.out));
    const afterRenew = JSON.parse((await cli(['authority', 'list', '--dir', auth.dir, '--at', at(340), '--json'])).stdout) as { endorsements: Array<{ status: string }> };
    assert.deepEqual(afterRenew.endorsements.map((e) => e.status).sort(), ['active', 'superseded']);

    const revoked = await cli(['authority', 'revoke', '--dir', auth.dir, rootKid, '--reason', 'organisation dissolved', '--at', at(341), '--json']);
    assert.equal(revoked.code, 0, revoked.stderr);
    const rvk = JSON.parse(revoked.stdout) as { revoked: string[]; lastCopyExpires: string; stillValid: boolean };
    assert.equal(rvk.revoked.length, 1);
    assert.equal(rvk.lastCopyExpires, rn.renewed[0]!.expires);
    assert.equal(rvk.stillValid, true);
    const again = JSON.parse((await cli(['authority', 'renew', '--dir', auth.dir, '--all-expiring', '400d', '--at', at(342), '--json'])).stdout) as { renewed: unknown[] };
    assert.equal(again.renewed.length, 0, 'revoked: never renewed');
  } finally {
    await primary.stop();
  }
});

test('review refuses a root key without a commitment for the organisation and a binding for another name', { timeout: 120_000 }, async () => {
  const auth = await initAuthority('authority-2');
  // An organisation whose binding certificate names another organisation's host.
  const dir = join(localCt.dir, 'impostor');
  const init = await cli(['org', 'init', '--dir', dir, '--org', 'https://impostor.example', '--asset', 'impostor.example', '--publish', 'octodns:x.yaml', '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--yes', '--json']);
  assert.equal(init.code, 0, init.stderr);
  const { rootKid } = JSON.parse(init.stdout) as { rootKid: string };
  await setLocalBinding(localCt, cli, 'org', dir, { host: 'hospital.example', kid: rootKid });
  const req = join(localCt.dir, 'impostor-req.json');
  const made = await cli(['org', 'request-endorsement', '--dir', dir, '--authority', AUTHORITY, '--constrain-asset', 'www.other.example', '--out', req, '--at', T0]);
  assert.equal(made.code, 0, made.stderr);
  const r = await cli(['authority', 'review', '--dir', auth.dir, req, '--at', at(0.01), '--json']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const rv = JSON.parse(r.stdout) as { verdict: string; findings: Array<{ code: string }> };
  assert.equal(rv.verdict, 'refuse');
  const codes = rv.findings.map((f) => f.code);
  assert.ok(codes.includes('BINDING_NAME_MISMATCH'), codes.join());
  assert.ok(codes.includes('ASSET_OUTSIDE_DOMAIN'), codes.join());
  // A log list that cannot be reached: indeterminate, a warning, not a refusal.
  const unreachable = await cli(['authority', 'review', '--dir', auth.dir, req, '--log-list', 'http://127.0.0.1:1/log_list.json', '--at', at(0.01), '--json']);
  const uv = JSON.parse(unreachable.stdout) as { verdict: string; commitment: string; findings: Array<{ code: string }> };
  assert.equal(uv.commitment, 'unavailable', unreachable.stdout + unreachable.stderr);
  assert.ok(uv.findings.some((f) => f.code === 'COMMITMENT_UNAVAILABLE'));
  assert.ok(!uv.findings.some((f) => f.code === 'BINDING_NAME_MISMATCH'));

  // A root key with no commitment: its `log` entry names a leaf the log does not hold (INVALID, refused).
  const lone = join(localCt.dir, 'uncommitted');
  const li = await cli(['org', 'init', '--dir', lone, '--org', 'https://lone.example', '--asset', 'lone.example', '--publish', 'octodns:y.yaml', '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--yes', '--json']);
  assert.equal(li.code, 0, li.stderr);
  const real = await issueBindingCertificate(localCt.ca, localCt.ctLog.url, { host: 'lone.example', kid: (JSON.parse(li.stdout) as { rootKid: string }).rootKid });
  writeFileSync(join(lone, 'chain.pem'), real.chainPem);
  writeFileSync(join(lone, 'log.json'), JSON.stringify([{ ...real.v1, hash: Buffer.alloc(32, 7).toString('base64') }]));
  assert.equal((await cli(['org', 'set-binding', '--dir', lone, '--chain', join(lone, 'chain.pem'), '--log', join(lone, 'log.json')])).code, 0);
  const loneReq = join(localCt.dir, 'lone-req.json');
  assert.equal((await cli(['org', 'request-endorsement', '--dir', lone, '--authority', AUTHORITY, '--out', loneReq, '--at', T0])).code, 0);
  const lr = await cli(['authority', 'review', '--dir', auth.dir, loneReq, '--at', at(0.01), '--json']);
  assert.equal(lr.code, 1, lr.stdout + lr.stderr);
  const lv = JSON.parse(lr.stdout) as { verdict: string; commitment: string; findings: Array<{ code: string }> };
  assert.equal(lv.commitment, 'failed', lr.stdout);
  assert.ok(lv.findings.some((f) => f.code === 'COMMITMENT_FAILED'), lr.stdout);
});
