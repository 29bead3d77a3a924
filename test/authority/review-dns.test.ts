import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { setLocalBinding, startLocalCt, type LocalCt } from '../helpers/local-ct.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { freePort } from '../dns/servers.js';
import { startKnotPrimary } from '../org/primaries.js';

const T0 = '2026-11-01T12:00:00Z';
const at = (days: number) => new Date(Date.parse(T0) + days * 86_400_000).toISOString();
const AUTHORITY = 'https://authority.example';

let localCt: LocalCt;
const env = () => ({ EMBLEM_CACHE_DIR: join(localCt.dir, 'cache'), EMBLEM_PASSPHRASE: 'correct horse battery staple' });
const cli = (args: string[]) => runCli(args, { env: env(), timeoutMs: 60_000 });

type Review = { verdict: string; findings: Array<{ code: string; severity: string; message: string }>; published: { checked: boolean; names: Array<{ name: string; status: string; sets: Array<{ assets: string[]; outsideConstraints: string[]; rootKeyMatches: boolean; issuer: string }> }> } };

before(async () => {
  localCt = await startLocalCt('emblem-review-dns-test-');
});

after(() => localCt.close());

test('review --resolver: what the organisation publishes (ok, outside the constraints, resolver down), covert and optional', { timeout: 240_000 }, async (t) => {
  if (spawnSync('sh', ['-c', 'command -v knotd && command -v tsig-keygen'], { env: thirdPartyEnv() }).status !== 0) return t.skip('knotd/tsig-keygen missing');
  const primary = await startKnotPrimary();
  try {
    const zone = primary.zone;
    const orgDir = join(localCt.dir, 'org');
    const init = await cli(['org', 'init', '--dir', orgDir, '--org', `https://${zone}`, '--asset', zone, '--asset', `clinic.${zone}`,
      '--publish', `rfc2136://127.0.0.1:${primary.port}/${zone}`, '--tsig-key', primary.keyFile, '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--lifetime', '7d', '--ttl', '60', '--yes', '--json']);
    assert.equal(init.code, 0, init.stderr);
    const { rootKid } = JSON.parse(init.stdout) as { rootKid: string };
    await setLocalBinding(localCt, cli, 'org', orgDir, { host: zone, kid: rootKid });
    const applied = await cli(['org', 'apply', '--dir', orgDir, '--at', T0, '--json']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);

    const authDir = join(localCt.dir, 'authority');
    const ai = await cli(['authority', 'init', '--dir', authDir, '--authority', AUTHORITY, '--ct-log-list', localCt.ctLog.logListUrl, '--ca-bundle', localCt.caBundle, '--yes', '--json']);
    assert.equal(ai.code, 0, ai.stderr);
    await setLocalBinding(localCt, cli, 'authority', authDir, { host: 'authority.example', kid: (JSON.parse(ai.stdout) as { kid: string }).kid });

    const request = async (name: string, extra: string[]) => {
      const out = join(localCt.dir, name);
      const r = await cli(['org', 'request-endorsement', '--dir', orgDir, '--authority', AUTHORITY, '--constrain-purpose', 'protective', '--max-lifetime', '30d', ...extra, '--out', out, '--at', T0]);
      assert.equal(r.code, 0, r.stderr);
      return out;
    };
    const review = async (req: string, extra: string[]) => {
      const r = await cli(['authority', 'review', '--dir', authDir, req, ...extra, '--at', at(0.01), '--json']);
      return { code: r.code, review: JSON.parse(r.stdout) as Review, raw: r.stdout + r.stderr };
    };
    const resolver = `127.0.0.1:${primary.port}`;

    // The whole folder's assets: each published set is the organisation's, under its root key, inside the request.
    const all = await request('all.json', []);
    const ok = await review(all, ['--resolver', resolver]);
    assert.equal(ok.code, 0, ok.raw);
    assert.equal(ok.review.verdict, 'ok', ok.raw);
    assert.equal(ok.review.findings.filter((f) => f.code === 'PUBLISHED_OK').length, 2, ok.raw);
    assert.deepEqual(ok.review.published.names.map((n) => [n.name, n.status]), [[zone, 'protected'], [`clinic.${zone}`, 'protected']]);
    assert.ok(ok.review.published.names.every((n) => n.sets.every((s) => s.rootKeyMatches && s.issuer === `https://${zone}`)), ok.raw);
    const text = await cli(['authority', 'review', '--dir', authDir, all, '--resolver', resolver, '--at', at(0.01)]);
    assert.match(text.stdout, new RegExp(`published in DNS \\(via [^)]*${primary.port}`));
    assert.match(text.stdout, /PUBLISHED_OK/);

    // Asking only for clinic: the organisation's host is still looked up, and what it marks there is outside.
    const narrow = await request('narrow.json', ['--constrain-asset', `clinic.${zone}`]);
    const out = await review(narrow, ['--resolver', resolver]);
    assert.equal(out.review.verdict, 'warnings', out.raw);
    const outside = out.review.findings.filter((f) => f.code === 'PUBLISHED_OUTSIDE_CONSTRAINTS');
    assert.equal(outside.length, 1, out.raw);
    assert.match(outside[0]!.message, new RegExp(zone.replace(/\./g, '\\.')));
    assert.equal(outside[0]!.severity, 'warning');
    assert.ok(out.review.findings.some((f) => f.code === 'PUBLISHED_OK' && f.message.startsWith(`clinic.${zone}`)), out.raw);

    // A wildcard: looked up at its own name, and said so.
    const wild = await request('wild.json', ['--constrain-asset', `*.clinic.${zone}`]);
    const wv = await review(wild, ['--resolver', resolver]);
    assert.ok(wv.review.findings.some((f) => f.code === 'PUBLISHED_OK' && f.message.includes(`for *.clinic.${zone}`)), wv.raw);

    // A resolver that does not answer: indeterminate, a warning, never a refusal.
    const closed = await freePort();
    const down = await review(all, ['--resolver', `127.0.0.1:${closed}`, '--timeout', '300']);
    assert.equal(down.code, 0, down.raw);
    assert.notEqual(down.review.verdict, 'refuse');
    assert.equal(down.review.verdict, 'warnings');
    assert.ok(down.review.findings.some((f) => f.code === 'DNS_UNAVAILABLE' && f.severity === 'warning'), down.raw);
    assert.ok(!down.review.findings.some((f) => f.code.startsWith('PUBLISHED_')), down.raw);

    // Without --resolver: no DNS query, and the summary says so.
    const none = await review(all, []);
    assert.equal(none.review.published.checked, false);
    assert.ok(none.review.findings.some((f) => f.code === 'DNS_NOT_CHECKED' && f.severity === 'info'));
    assert.equal(none.review.verdict, 'ok');
    const noneText = await cli(['authority', 'review', '--dir', authDir, all, '--at', at(0.01)]);
    assert.match(noneText.stdout, /published in DNS: not checked \(no --resolver/);
  } finally {
    await primary.stop();
  }
});
