import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseCwtToken } from '../../src/core/tokens/cwt.js';
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
  localCt = await startLocalCt('emblem-authority-cwt-test-');
});

after(() => localCt.close());

interface SetJson { era: string | null; result: string[]; endorsedBy: string[] }

test('CWT era: a request from an era-both folder gets a CWT endorsement too (purposes only); apply publishes it; check: ENDORSED-TRUSTED in both eras', { timeout: 240_000 }, async (t) => {
  if (spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen'], { env: thirdPartyEnv() }).status !== 0) return t.skip('knotd/tsig-keygen missing');
  const primary = await startKnotPrimary();
  try {
    const zone = primary.zone;
    const orgDir = join(localCt.dir, 'org');
    const init = await cli(['org', 'init', '--dir', orgDir, '--org', `https://${zone}`, '--asset', `clinic.${zone}`, '--era', 'both',
      '--publish', `rfc2136://127.0.0.1:${primary.port}/${zone}`, '--tsig-key', primary.keyFile, '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--lifetime', '7d', '--ttl', '60', '--yes', '--json']);
    assert.equal(init.code, 0, init.stderr);
    const { bindingNames: orgNames } = JSON.parse(init.stdout) as { bindingNames: string[] };
    assert.equal(orgNames.length, 4, 'era both: the CWT kid is named too');
    await setLocalBinding(localCt, cli, 'org', orgDir, orgNames);

    const authDir = join(localCt.dir, 'authority');
    const ai = await cli(['authority', 'init', '--dir', authDir, '--authority', AUTHORITY, '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--yes', '--json']);
    assert.equal(ai.code, 0, ai.stderr);
    const { coseKid: authCoseKid, bindingNames: authNames } = JSON.parse(ai.stdout) as { coseKid: string; bindingNames: string[] };
    await setLocalBinding(localCt, cli, 'authority', authDir, authNames);

    const req = join(localCt.dir, 'req.json');
    const made = await cli(['org', 'request-endorsement', '--dir', orgDir, '--authority', AUTHORITY, '--constrain-asset', `*.${zone}`, '--constrain-purpose', 'protective', '--out', req, '--at', T0]);
    assert.equal(made.code, 0, made.stderr);
    const request = JSON.parse(readFileSync(req, 'utf8')) as { eras: string[]; rootKey: { coseKid: string } };
    assert.deepEqual(request.eras, ['jws', 'cwt'], 'the folder\'s era');

    // review: the CWT endorsement cannot carry the asset constraint (a warning, with its code).
    const review = await cli(['authority', 'review', '--dir', authDir, req, '--at', at(0.01), '--json']);
    assert.equal(review.code, 0, review.stderr + review.stdout);
    const rv = JSON.parse(review.stdout) as { verdict: string; eras: string[]; findings: Array<{ code: string; severity: string }> };
    assert.deepEqual(rv.eras, ['jws', 'cwt']);
    assert.ok(rv.findings.some((f) => f.code === 'CWT_CONSTRAINT_UNSUPPORTED' && f.severity === 'warning'), review.stdout);
    const text = await cli(['authority', 'review', '--dir', authDir, req, '--at', at(0.01)]);
    assert.match(text.stdout, /CWT_CONSTRAINT_UNSUPPORTED: .*validators of the CWT era will not enforce/);

    // grant refuses by default (safer), nothing signed or recorded.
    const resp = join(localCt.dir, 'resp.json');
    const refused = await cli(['authority', 'grant', '--dir', authDir, req, '--accept-warnings', '--out', resp, '--at', at(0.01)]);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /CWT_CONSTRAINT_UNSUPPORTED/);
    assert.equal(existsSync(resp), false);
    assert.equal((JSON.parse((await cli(['authority', 'list', '--dir', authDir, '--at', at(0.01), '--json'])).stdout) as { endorsements: unknown[] }).endorsements.length, 0);

    // Accepted explicitly (the wildcard warning needs --accept-warnings as before).
    const grant = await cli(['authority', 'grant', '--dir', authDir, req, '--accept-warnings', '--cwt-without-asset-constraints', '--out', resp, '--at', at(0.01), '--json']);
    assert.equal(grant.code, 0, grant.stderr + grant.stdout);
    const granted = JSON.parse(grant.stdout) as { eras: string[]; warnings: Array<{ code: string }> };
    assert.deepEqual(granted.eras, ['jws', 'cwt']);
    assert.deepEqual(granted.warnings.map((w) => w.code), ['CWT_CONSTRAINT_UNSUPPORTED']);
    const response = JSON.parse(readFileSync(resp, 'utf8')) as { endorsements: { jws: string; cwt: string } };
    const cwt = parseCwtToken(new Uint8Array(Buffer.from(response.endorsements.cwt, 'hex')));
    assert.equal(cwt.kind, 'endorsement');
    assert.equal(cwt.claims.key, request.rootKey.coseKid);
    assert.equal(cwt.claims.sub, `https://${zone}`);
    assert.equal(cwt.claims.iss, AUTHORITY);
    assert.equal(cwt.claims.end, true);
    assert.equal(cwt.claims.purposes, 1, 'prp: protective only');
    assert.equal(cwt.claims.constraintAssets, null);
    assert.equal(cwt.claims.window, null);
    assert.equal(cwt.headerKid, authCoseKid);
    assert.ok(cwt.claims.log && cwt.claims.log.length === 1, 'the authority\'s own log entry');

    const imported = await cli(['org', 'import-endorsement', '--dir', orgDir, resp, '--at', at(0.02), '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual((JSON.parse(imported.stdout) as { eras: string[] }).eras, ['jws', 'cwt']);

    const applied = await cli(['org', 'apply', '--dir', orgDir, '--at', at(0.02), '--json']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);

    const check = await cli(['check', `clinic.${zone}`, '--resolver', `127.0.0.1:${primary.port}`, '--log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle,
      '--trusted-key', join(authDir, 'keys/root.pub.jwk'), '--at', at(0.1), '--json']);
    const report = JSON.parse(check.stdout) as { status: string; level: string; sets: SetJson[] };
    assert.equal(report.level, 'ENDORSED-TRUSTED', check.stdout);
    for (const era of ['jws', 'cwt']) {
      assert.ok(report.sets.some((s) => s.era === era && s.result.includes('ENDORSED-TRUSTED') && s.endorsedBy.includes(AUTHORITY)), `${era}: ${check.stdout}`);
    }
    const cwtOnly = await cli(['check', `clinic.${zone}`, '--era', 'cwt', '--resolver', `127.0.0.1:${primary.port}`, '--log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle,
      '--trusted-key', join(authDir, 'keys/root.pub.jwk'), '--at', at(0.1), '--json']);
    const cr = JSON.parse(cwtOnly.stdout) as { level: string; sets: SetJson[] };
    assert.equal(cr.level, 'ENDORSED-TRUSTED', cwtOnly.stdout);

    // renew keeps the era: the renewed response carries a CWT endorsement again.
    const renewed = await cli(['authority', 'renew', '--dir', authDir, '--all-expiring', '30d', '--at', at(340), '--json']);
    assert.equal(renewed.code, 0, renewed.stderr);
    const rn = JSON.parse(renewed.stdout) as { renewed: Array<{ out: string }> };
    assert.equal(rn.renewed.length, 1);
    assert.match((JSON.parse(readFileSync(rn.renewed[0]!.out, 'utf8')) as { endorsements: { cwt?: string } }).endorsements.cwt ?? '', /^[0-9a-f]+$/);
  } finally {
    await primary.stop();
  }
});
