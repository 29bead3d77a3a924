import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from '../../src/authority/registry.js';
import { REQUEST_TYPE, type EndorsementRequestBody } from '../../src/authority/request.js';
import { signRequestProof } from '../../src/authority/request-proof.js';
import { generateSigningKey } from '../../src/core/tokens/sign.js';
import { CLI, runCli } from '../helpers/cli.js';
import { tempDir } from '../dns/servers.js';

const T0 = Date.parse('2026-11-01T12:00:00Z') / 1000;
const N = 150;

/** Registry and files agree: every issued file has a row and every row its file; each record renewed at most once. */
function assertConsistent(dir: string): { renewed: number } {
  const reg = Registry.open(dir, { now: T0 });
  try {
    const rows = reg.list();
    const files = new Set(readdirSync(join(dir, 'issued')).filter((f) => f.endsWith('.json')));
    assert.deepEqual(new Set(rows.filter((r) => r.issuedFile.startsWith('issued/')).map((r) => r.issuedFile.slice('issued/'.length))), files);
    const successors = new Map<string, number>();
    for (const r of rows) if (r.renewedFrom) successors.set(r.renewedFrom, (successors.get(r.renewedFrom) ?? 0) + 1);
    for (const [, n] of successors) assert.equal(n, 1, 'renewed twice');
    for (const r of rows) assert.equal(r.status === 'superseded', successors.has(r.id), `${r.id}: superseded iff renewed`);
    return { renewed: successors.size };
  } finally {
    reg.close();
  }
}

test('kill -9 during a bulk renewal: after restart the registry and the response files agree; a rerun finishes the rest once', { timeout: 180_000 }, async () => {
  const work = tempDir('emblem-renew-kill-');
  try {
    const dir = join(work.path, 'authority');
    const env = { EMBLEM_PASSPHRASE: undefined, EMBLEM_CACHE_DIR: join(work.path, 'cache') };
    const init = await runCli(['authority', 'init', '--dir', dir, '--authority', 'https://authority.example', '--yes', '--json'], { env });
    assert.equal(init.code, 0, init.stderr);
    writeFileSync(join(work.path, 'chain.pem'), 'not checked by renew\n');
    const log = JSON.stringify([{ ver: 'v1', id: Buffer.alloc(32, 1).toString('base64'), hash: Buffer.alloc(32, 2).toString('base64') }]);
    assert.equal((await runCli(['authority', 'set-binding', '--dir', dir, '--chain', join(work.path, 'chain.pem'), '--log', log], { env })).code, 0);

    // N organisations granted a year ago (records and request files as grant leaves them).
    const reg = Registry.open(dir, { now: T0 });
    mkdirSync(join(dir, 'requests'), { recursive: true });
    for (let i = 0; i < N; i++) {
      const { key } = await generateSigningKey('ES256');
      const id = `20251101-${i.toString(16).padStart(12, '0')}`;
      const body: EndorsementRequestBody = {
        version: 1, type: REQUEST_TYPE, authority: 'https://authority.example', organization: `https://org${i}.example`,
        rootKey: { jwk: key.publicKey.jwk as JsonWebKey, kid: key.publicKey.jwsKid, coseKid: key.publicKey.coseKidText },
        log: JSON.parse(log), constraints: { assets: [`org${i}.example`] }, contact: '', nonce: `nonce-${i.toString().padStart(16, '0')}`, createdAt: new Date((T0 - 365 * 86_400) * 1000).toISOString(),
      };
      writeFileSync(join(dir, 'requests', `${id}.json`), JSON.stringify({ ...body, proof: await signRequestProof(body, key) }));
      reg.record({ id, organization: body.organization, kid: key.publicKey.jwsKid, coseKid: key.publicKey.coseKidText, constraints: body.constraints, issued: T0 - 360 * 86_400, expires: T0 + 5 * 86_400, status: 'active', reason: null, revokedAt: null, issuedFile: `issued/${id}.json`, responseFile: null, requestFile: `requests/${id}.json`, renewedFrom: null }, { now: T0, nonce: body.nonce, action: 'grant' });
    }
    reg.close();
    mkdirSync(join(dir, 'issued'), { recursive: true });
    // The seeded records have no issued files: give them some so the consistency check covers them too.
    for (const f of readdirSync(join(dir, 'requests'))) writeFileSync(join(dir, 'issued', f), readFileSync(join(dir, 'requests', f)));

    const at = new Date(T0 * 1000).toISOString();
    const child = spawn(process.execPath, [CLI, 'authority', 'renew', '--dir', dir, '--all-expiring', '30d', '--at', at, '--json'], { env: { ...process.env, EMBLEM_CACHE_DIR: env.EMBLEM_CACHE_DIR }, stdio: 'ignore' });
    const responses = join(dir, 'responses');
    // Kill it mid-run: once some responses exist, without waiting for the end.
    for (let i = 0; i < 400; i++) {
      await new Promise((r) => setTimeout(r, 25));
      let n = 0;
      try {
        n = readdirSync(responses).length;
      } catch {
        /* not yet */
      }
      if (n >= 10) break;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const partial = assertConsistent(dir);
    assert.ok(partial.renewed > 0 && partial.renewed < N, `killed mid-run (renewed ${partial.renewed} of ${N})`);

    const rerun = await runCli(['authority', 'renew', '--dir', dir, '--all-expiring', '30d', '--at', at, '--json'], { env, timeoutMs: 120_000 });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal((JSON.parse(rerun.stdout) as { renewed: unknown[] }).renewed.length, N - partial.renewed);
    assert.equal(assertConsistent(dir).renewed, N);
    const expiring = await runCli(['authority', 'list', '--dir', dir, '--expiring', '30d', '--at', at, '--json'], { env });
    assert.equal((JSON.parse(expiring.stdout) as { endorsements: unknown[] }).endorsements.length, 0);
  } finally {
    work.remove();
  }
});
