import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLocalCa, issueBindingCertificate } from '../../src/ct/local-ca.js';
import { startLocalCtLog } from '../../src/ct/local-log/start-local-ct-log.js';
import { runCli } from '../helpers/cli.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { tempDir } from '../dns/servers.js';
import { startKnotZonefile } from './primaries.js';

const T0 = '2026-11-01T12:00:00Z';

test('zonefile channel: records written into the zone file, serial bumped, knotc zone-reload, verified on Knot; withdraw', { timeout: 120_000 }, async (t) => {
  if (spawnSync('sh', ['-c', 'command -v knotd && command -v knotc'], { env: thirdPartyEnv() }).status !== 0) return t.skip('knot missing');
  const work = tempDir('emblem-org-zf-');
  const knot = await startKnotZonefile();
  const ca = await createLocalCa();
  const ctLog = await startLocalCtLog({ roots: [ca.certificate] });
  // The binding chain ends at the local CA: the org's verification trusts it instead of the system bundle.
  writeFileSync(join(work.path, 'ca.pem'), ca.pem);
  const env = { EMBLEM_CACHE_DIR: join(work.path, 'cache'), PATH: thirdPartyEnv().PATH ?? '' };
  try {
    const dir = join(work.path, 'org');
    const init = await runCli(['org', 'init', '--dir', dir, '--org', `https://${knot.zone}`, '--asset', `clinic.${knot.zone}`, '--publish', `zonefile:${knot.zoneFile}`,
      '--reload-command', knot.reloadCommand, '--servers', `127.0.0.1:${knot.port}`, '--ct-log-list', ctLog.logListUrl, '--ca-bundle', join(work.path, 'ca.pem'), '--ttl', '60', '--yes', '--json'], { env });
    assert.equal(init.code, 0, init.stderr);
    const logged = await issueBindingCertificate(ca, ctLog.url, { host: knot.zone, kid: (JSON.parse(init.stdout) as { rootKid: string }).rootKid });
    writeFileSync(join(work.path, 'chain.pem'), logged.chainPem);
    writeFileSync(join(work.path, 'log.json'), JSON.stringify([logged.v1]));
    assert.equal((await runCli(['org', 'set-binding', '--dir', dir, '--chain', join(work.path, 'chain.pem'), '--log', join(work.path, 'log.json')], { env })).code, 0);
    const applied = await runCli(['org', 'apply', '--dir', dir, '--at', T0, '--json'], { env, timeoutMs: 60_000 });
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    assert.equal((JSON.parse(applied.stdout) as { assets: Array<{ level: string }> }).assets[0]!.level, 'ORGANIZATIONAL-UNTRUSTED');
    const zone = readFileSync(knot.zoneFile, 'utf8');
    assert.match(zone, /adem-token-g1=/);
    assert.match(zone, /ns1/, 'other records kept');
    const wd = await runCli(['org', 'withdraw', '--dir', dir, '--asset', `clinic.${knot.zone}`, '--at', T0, '--json'], { env });
    assert.equal(wd.code, 0, wd.stderr + wd.stdout);
    assert.doesNotMatch(readFileSync(knot.zoneFile, 'utf8'), /adem-/);
    assert.equal(spawnSync('dig', ['+short', '-p', String(knot.port), '@127.0.0.1', `clinic.${knot.zone}`, 'TXT'], { env: thirdPartyEnv(), encoding: 'utf8' }).stdout.trim(), '');
  } finally {
    await ctLog.close();
    await knot.stop();
    work.remove();
  }
});
