/**
 * An observer that pins an authority key records ENDORSED-TRUSTED; the evidence entry records the keys it pinned, so
 * `evidence verify` re-verifies with exactly those keys and gets the same status. Changing the recorded keys fails.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startEmblemServer, tempDir, type EmblemServer } from '../dns/servers.js';
import { makeKeys } from '../helpers/tokens.js';
import { T0, buildObserveWorld, type ObserveWorld } from './world.js';

const at = (s: number) => new Date(T0.getTime() + s * 1000).toISOString();

describe('evidence of an observer with pinned authority keys', () => {
  let world: ObserveWorld;
  let dir: { path: string; remove(): void };
  let emblem: EmblemServer | undefined;
  let config: string;

  before(async () => {
    world = await buildObserveWorld(1);
    dir = tempDir('emblem-evidence-trust-');
    world.write(join(dir.path, 'emblem.zone'), 'steady', 1);
    writeFileSync(join(dir.path, 'authority.jwk'), JSON.stringify(world.authorityJwk));
    emblem = await startEmblemServer([join(dir.path, 'emblem.zone')], ['--rrl-responses-per-second', '0']);
    config = join(dir.path, 'observe.yaml');
    writeFileSync(config, `targets: [${world.names.ok[0]}]
vantagePoints:
  - { name: emblem, resolver: "127.0.0.1:${emblem.port}" }
windowSeconds: 10
database: sqlite:state.sqlite
evidenceDir: evidence
trustedKeys: [authority.jwk]
skipCommitmentCheck: true
era: jws
queryTimeoutMs: 500
`);
  });
  after(async () => {
    await emblem?.stop();
    dir?.remove();
  });

  it('observe records ENDORSED-TRUSTED and the pinned key; export + verify passes; altered recorded keys fail', async () => {
    const target = world.names.ok[0]!;
    const run = await runCli(['observe', '--config', config, '--start-at', at(0), '--windows', '1']);
    assert.equal(run.code, 0, run.stderr);
    const bundle = join(dir.path, 'bundle.json');
    const ex = await runCli(['evidence', 'export', '--config', config, '--target', target, '--at', at(0), '--out', bundle]);
    assert.equal(ex.code, 0, ex.stdout + ex.stderr);
    const pub = join(dir.path, 'evidence', 'observer.pub');
    const v = await runCli(['evidence', 'verify', bundle, '--observer-key', pub, '--json']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const report = JSON.parse(v.stdout) as { ok: boolean; entries: Array<{ recordedStatus: string; recomputedStatus: string; trustedKeys: unknown[] }> };
    assert.equal(report.ok, true);
    assert.equal(report.entries[0]!.recordedStatus, 'ENDORSED-TRUSTED');
    assert.equal(report.entries[0]!.recomputedStatus, 'ENDORSED-TRUSTED');
    assert.deepEqual(report.entries[0]!.trustedKeys, [world.authorityJwk]);

    // Tampering with the recorded keys: the entry no longer matches its inclusion proof (and, re-verified with
    // another key, the recorded status no longer follows from the answers).
    // The bundle's digest is not a signature: an attacker recomputes it, so the test does too and the entry's own
    // checks must catch the change.
    const b = JSON.parse(readFileSync(bundle, 'utf8')) as { format: string; target: string; at: string; checkpoint: string; entries: Array<{ leafIndex: number; entry: string; inclusionProof: string[] }>; digest: string };
    const record = JSON.parse(Buffer.from(b.entries[0]!.entry, 'base64').toString('utf8')) as Record<string, unknown>;
    const [other] = await makeKeys(1);
    for (const [name, keys] of [['other', [other!.publicKey.jwk]], ['none', undefined]] as const) {
      const altered = { ...record, trustedKeys: keys };
      b.entries[0]!.entry = Buffer.from(JSON.stringify(altered)).toString('base64');
      const body = { format: b.format, target: b.target, at: b.at, checkpoint: b.checkpoint, entries: b.entries };
      const file = join(dir.path, `tampered-${name}.json`);
      writeFileSync(file, `${JSON.stringify({ ...body, digest: `sha256:${createHash('sha256').update(JSON.stringify(body)).digest('hex')}` }, null, 2)}\n`);
      const t = await runCli(['evidence', 'verify', file, '--observer-key', pub, '--json']);
      assert.equal(t.code, 1, `${name}: ${t.stdout}`);
      assert.ok(JSON.parse(t.stdout).entries?.length, t.stdout);
      const codes = (JSON.parse(t.stdout) as { entries: Array<{ errors: Array<{ code: string }> }> }).entries[0]!.errors.map((e) => e.code);
      assert.ok(codes.includes('EVIDENCE_INCLUSION_INVALID'), `${name}: ${codes}`);
      assert.ok(codes.includes('EVIDENCE_STATUS_MISMATCH'), `${name}: ${codes}`);
    }
  });
});
