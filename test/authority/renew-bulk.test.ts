/**
 * Issue 11, acceptance 4 (bulk renewal over 1,000 organisations) and 6 (revoke stops renew, reports the expiry of
 * the last copy). The registry is seeded through the library (as grant leaves it); renew and revoke run as CLI.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseBundle } from '../../src/authority/bundle.js';
import { Registry, type EndorsementRecord } from '../../src/authority/registry.js';
import { REQUEST_TYPE, type EndorsementRequestBody } from '../../src/authority/request.js';
import { signRequestProof } from '../../src/authority/request-proof.js';
import { parseResponse } from '../../src/authority/response.js';
import { base64urlDecode, utf8Decode } from '../../src/core/encoding.js';
import { generateSigningKey } from '../../src/core/tokens/sign.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../dns/servers.js';

const T0 = Date.parse('2026-11-01T12:00:00Z') / 1000;
const DAY = 86_400;
const YEAR = 365 * DAY;
const AUTHORITY = 'https://authority.example';
const iso = (s: number) => new Date(s * 1000).toISOString();

interface Seed {
  organization: string;
  expires: number;
}

/** An authority folder (CLI init + set-binding) and one granted endorsement per seed, recorded through the library. */
async function seedAuthority(root: string, seeds: Seed[]): Promise<{ dir: string; env: Record<string, string | undefined>; records: EndorsementRecord[] }> {
  const dir = join(root, 'authority');
  const env = { EMBLEM_PASSPHRASE: undefined, EMBLEM_CACHE_DIR: join(root, 'cache') };
  const init = await runCli(['authority', 'init', '--dir', dir, '--authority', AUTHORITY, '--yes', '--json'], { env });
  assert.equal(init.code, 0, init.stderr);
  writeFileSync(join(root, 'chain.pem'), 'not checked by renew\n');
  const log = JSON.stringify([{ ver: 'v1', id: Buffer.alloc(32, 1).toString('base64'), hash: Buffer.alloc(32, 2).toString('base64') }]);
  assert.equal((await runCli(['authority', 'set-binding', '--dir', dir, '--chain', join(root, 'chain.pem'), '--log', log], { env })).code, 0);
  mkdirSync(join(dir, 'requests'), { recursive: true });
  mkdirSync(join(dir, 'issued'), { recursive: true });
  const reg = Registry.open(dir, { now: T0 });
  const records: EndorsementRecord[] = [];
  try {
    const rows: Array<{ rec: EndorsementRecord; nonce: string }> = [];
    for (const [i, s] of seeds.entries()) {
      const { key } = await generateSigningKey('ES256');
      const id = `20251101-${i.toString(16).padStart(12, '0')}`;
      const body: EndorsementRequestBody = {
        version: 1, type: REQUEST_TYPE, authority: AUTHORITY, organization: s.organization,
        rootKey: { jwk: key.publicKey.jwk as JsonWebKey, kid: key.publicKey.jwsKid, coseKid: key.publicKey.coseKidText },
        log: JSON.parse(log), constraints: { assets: [`*.${new URL(s.organization).host}`], purposes: ['protective'] }, contact: '',
        nonce: `nonce-${i.toString().padStart(16, '0')}`, createdAt: iso(s.expires - YEAR - 60),
      };
      const text = JSON.stringify({ ...body, proof: await signRequestProof(body, key) });
      writeFileSync(join(dir, 'requests', `${id}.json`), text);
      writeFileSync(join(dir, 'issued', `${id}.json`), text); // the seeded records' "issued copy": only its presence is checked
      const rec: EndorsementRecord = {
        id, organization: s.organization, kid: key.publicKey.jwsKid, coseKid: key.publicKey.coseKidText, constraints: body.constraints,
        issued: s.expires - YEAR, expires: s.expires, status: 'active', reason: null, revokedAt: null,
        issuedFile: `issued/${id}.json`, responseFile: null, requestFile: `requests/${id}.json`, renewedFrom: null,
      };
      rows.push({ rec, nonce: body.nonce });
      records.push(rec);
    }
    // One outer transaction (each record() nests as a savepoint): 1,000 inserts, one sync.
    reg.db.transaction(() => {
      for (const r of rows) reg.record(r.rec, { now: T0, nonce: r.nonce, action: 'grant' });
    })();
  } finally {
    reg.close();
  }
  return { dir, env, records };
}

function jwsPayload(token: string): Record<string, unknown> {
  return JSON.parse(utf8Decode(base64urlDecode(token.split('.')[1]!))) as Record<string, unknown>;
}

interface RenewOut {
  renewed: Array<{ previous: string; id: string; organization: string; kid: string; expires: string; out: string }>;
  bundle: string | null;
}

test('1,000 organisations: renew --all-expiring 30d re-signs exactly the 300 due, writes their responses and a bundle, leaves the 700 others untouched; a rerun renews nothing', { timeout: 300_000 }, async () => {
  const work = tempDir('emblem-renew-bulk-');
  try {
    // Due at T0 (rule: active and expires <= at + window): 300, from T0+30d exactly (the boundary, included) down to
    // T0+0.1d. Not due: 5 just past the window (T0+30d+1s .. T0+30d+4h, they enter it a day later) and 695 later.
    const seeds: Seed[] = Array.from({ length: 1000 }, (_, i) => ({
      organization: `https://org${i}.example`,
      expires: i < 300 ? T0 + 30 * DAY - i * 8640 : i < 305 ? T0 + 30 * DAY + 1 + (i - 300) * 3600 : T0 + 31 * DAY + 1 + (i - 305) * 30_000,
    }));
    const { dir, env, records } = await seedAuthority(work.path, seeds);
    const due = new Set(records.slice(0, 300).map((r) => r.id));
    const before = Registry.open(dir, { now: T0 });
    const untouchedBefore = before.list().filter((r) => !due.has(r.id));
    before.close();
    assert.equal(untouchedBefore.length, 700);

    const at = iso(T0);
    const listed = await runCli(['authority', 'list', '--dir', dir, '--expiring', '30d', '--at', at, '--json'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(new Set((JSON.parse(listed.stdout) as { endorsements: Array<{ id: string }> }).endorsements.map((e) => e.id)), due);

    const outDir = join(work.path, 'out');
    const run1 = await runCli(['authority', 'renew', '--dir', dir, '--all-expiring', '30d', '--out-dir', outDir, '--at', at, '--json'], { env, timeoutMs: 240_000 });
    assert.equal(run1.code, 0, run1.stderr);
    const r1 = JSON.parse(run1.stdout) as RenewOut;
    assert.equal(r1.renewed.length, 300);
    assert.deepEqual(new Set(r1.renewed.map((r) => r.previous)), due, 'exactly the due ones');

    // Each response file: a new endorsement of the same key and constraints, valid for the same lifetime from --at.
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const r of r1.renewed) {
      const prev = byId.get(r.previous)!;
      const resp = parseResponse(readFileSync(r.out, 'utf8'));
      assert.equal(resp.id, r.id);
      assert.equal(resp.organization, prev.organization);
      assert.equal(resp.kid, prev.kid);
      assert.deepEqual(resp.constraints, prev.constraints);
      assert.equal(resp.renewedFrom, prev.id);
      assert.equal(resp.issued, iso(T0));
      assert.equal(resp.expires, iso(T0 + YEAR));
      const claims = jwsPayload(resp.endorsements.jws!);
      assert.deepEqual([claims.iss, claims.sub, claims.iat, claims.exp, claims.end], [AUTHORITY, prev.organization, T0, T0 + YEAR, true]);
      assert.equal(claims.key, prev.kid, 'endorses the same root key');
      assert.deepEqual(claims.emb, { prp: prev.constraints.purposes, assets: prev.constraints.assets }, 'same constraints');
    }
    // The bundle holds the same 300 responses, byte-for-byte the same content as the per-organisation files.
    assert.ok(r1.bundle);
    const bundle = parseBundle(readFileSync(r1.bundle, 'utf8'));
    assert.equal(bundle.authority, AUTHORITY);
    assert.equal(bundle.responses.length, 300);
    for (const [i, resp] of bundle.responses.entries()) assert.deepEqual(resp, parseResponse(readFileSync(r1.renewed[i]!.out, 'utf8')));
    assert.equal(readdirSync(outDir).length, 301, '300 responses + 1 bundle');
    assert.equal(readdirSync(join(dir, 'issued')).length, 1300);

    // The registry: predecessors superseded, successors active, the other 700 rows unchanged.
    const after = Registry.open(dir, { now: T0 });
    try {
      const rows = after.list();
      assert.equal(rows.length, 1300);
      for (const id of due) assert.equal(after.get(id)!.status, 'superseded');
      for (const r of r1.renewed) assert.deepEqual([after.get(r.id)!.status, after.get(r.id)!.expires], ['active', T0 + YEAR]);
      assert.deepEqual(rows.filter((r) => !due.has(r.id) && !r.renewedFrom).sort((a, b) => a.id.localeCompare(b.id)), untouchedBefore.sort((a, b) => a.id.localeCompare(b.id)));
    } finally {
      after.close();
    }

    // Second run, same --at: nothing is due any more (the renewals expire at + 365d, outside the window).
    const run2 = await runCli(['authority', 'renew', '--dir', dir, '--all-expiring', '30d', '--out-dir', outDir, '--at', at, '--json'], { env, timeoutMs: 60_000 });
    assert.equal(run2.code, 0, run2.stderr);
    assert.deepEqual(JSON.parse(run2.stdout), { renewed: [], bundle: null });
    assert.equal(readdirSync(outDir).length, 301, 'no new files');

    // A day later the same rule catches exactly the 5 that entered the window, and nothing renewed before.
    const run3 = await runCli(['authority', 'renew', '--dir', dir, '--all-expiring', '30d', '--out-dir', outDir, '--at', iso(T0 + DAY), '--json'], { env, timeoutMs: 60_000 });
    assert.equal(run3.code, 0, run3.stderr);
    const r3 = JSON.parse(run3.stdout) as RenewOut;
    assert.deepEqual(r3.renewed.map((r) => r.previous).sort(), records.slice(300, 305).map((r) => r.id).sort());
  } finally {
    work.remove();
  }
});

test('revoke ORG stops renew for that organisation only and reports when its last published copy expires', { timeout: 120_000 }, async () => {
  const work = tempDir('emblem-revoke-renew-');
  try {
    const seeds: Seed[] = [
      { organization: 'https://keep.example', expires: T0 + 10 * DAY },
      { organization: 'https://gone.example', expires: T0 + 10 * DAY },
      { organization: 'https://bykid.example', expires: T0 + 10 * DAY },
    ];
    const { dir, env, records } = await seedAuthority(work.path, seeds);
    const cli = (args: string[], at: number) => runCli([...args, '--dir', dir, '--at', iso(at), '--json'], { env, timeoutMs: 60_000 });

    // A first renewal 5 days before expiry: gone.example now has two published copies, the newer until T0+5d+365d.
    const r1 = JSON.parse((await cli(['authority', 'renew', '--all-expiring', '30d'], T0 + 5 * DAY)).stdout) as RenewOut;
    assert.equal(r1.renewed.length, 3);
    const goneRenewed = r1.renewed.find((r) => r.organization === 'https://gone.example')!;
    assert.equal(goneRenewed.expires, iso(T0 + 5 * DAY + YEAR));

    // Revoke by organisation (bare host form) and by root kid.
    const rv = await cli(['authority', 'revoke', 'gone.example', '--reason', 'emblem misuse'], T0 + 6 * DAY);
    assert.equal(rv.code, 0, rv.stderr);
    assert.deepEqual(JSON.parse(rv.stdout), { revoked: [goneRenewed.id], lastCopyExpires: iso(T0 + 5 * DAY + YEAR), stillValid: true });
    const human = await runCli(['authority', 'revoke', records[2]!.kid, '--reason', 'dissolved', '--dir', dir, '--at', iso(T0 + 6 * DAY)], { env });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /Revoked 1 endorsement\(s\).*will not be renewed/);
    assert.match(human.stdout, new RegExp(`stay valid until ${iso(T0 + 5 * DAY + YEAR).replace(/\./g, '\\.')}`));
    assert.match(human.stdout, /short lifetimes are the revocation mechanism/);

    // The registry says so; renew (any window) re-signs only the organisation still endorsed.
    const shown = JSON.parse((await cli(['authority', 'show', 'gone.example'], T0 + 6 * DAY)).stdout) as { endorsements: Array<{ id: string; status: string; reason?: string }> };
    assert.deepEqual(shown.endorsements.map((e) => [e.status, e.reason ?? null]).sort(), [['revoked', 'emblem misuse'], ['superseded', null]]);
    const r2 = JSON.parse((await cli(['authority', 'renew', '--all-expiring', '400d'], T0 + 6 * DAY)).stdout) as RenewOut;
    assert.deepEqual(r2.renewed.map((r) => r.organization), ['https://keep.example']);
    const due = JSON.parse((await cli(['authority', 'list', '--expiring', '400d'], T0 + 6 * DAY)).stdout) as { endorsements: Array<{ organization: string }> };
    assert.deepEqual(due.endorsements.map((e) => e.organization), ['https://keep.example']);

    // Revoking again: nothing active left; still reports the last copy; once it has expired, says so.
    const again = JSON.parse((await cli(['authority', 'revoke', 'gone.example', '--reason', 'again'], T0 + 400 * DAY)).stdout) as { revoked: string[]; lastCopyExpires: string; stillValid: boolean };
    assert.deepEqual(again, { revoked: [], lastCopyExpires: iso(T0 + 5 * DAY + YEAR), stillValid: false });
    const unknown = await cli(['authority', 'revoke', 'nobody.example', '--reason', 'x'], T0);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /NOT_FOUND|no endorsement/);
  } finally {
    work.remove();
  }
});
