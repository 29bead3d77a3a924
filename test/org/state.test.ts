import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { txtRdata } from '../../src/dns/character-strings.js';
import { signingKid } from '../../src/org/set-kid.js';
import { assetState, emptyState, loadState, saveAssets, saveState, withStateLock, type OrgState, type SetState } from '../../src/org/state.js';
import { tempDir } from '../dns/servers.js';

const T0 = 1_793_534_400;

function set(identifier: string, emblemKid?: string): SetState {
  return { identifier, signedAt: T0, validFrom: T0, validUntil: T0 + 30, records: [], ...(emblemKid ? { emblemKid } : {}) };
}

function published(): OrgState {
  const s = emptyState();
  for (const asset of ['clinic.hospital.example', 'ward.hospital.example']) {
    const a = assetState(s, asset);
    a.current = set('g1', 'k1');
    a.channels = { knot: 'published' };
  }
  s.nextGeneration = 2;
  return s;
}

test('a withdrawal written while an executor holds an older copy is kept by the executor\'s next write', async () => {
  const dir = tempDir('emblem-org-state-');
  try {
    await saveState(dir.path, published());
    const daemon = await loadState(dir.path); // org run's copy, read before the withdrawal
    const withdrawer = await loadState(dir.path);
    const w = assetState(withdrawer, 'clinic.hospital.example');
    Object.assign(w, { withdrawn: true, withdrawnAt: T0 + 5, cacheHorizon: T0 + 65, current: null, pending: null, channels: { knot: 'removed' } });
    await saveAssets(dir.path, withdrawer, ['clinic.hospital.example']);
    // The daemon renews both assets from its stale copy and records the step.
    for (const a of Object.values(daemon.assets)) a.pending = set('g2', 'k1');
    daemon.nextGeneration = 3;
    await saveState(dir.path, daemon);
    const disk = await loadState(dir.path);
    const clinic = disk.assets['clinic.hospital.example']!;
    assert.equal(clinic.withdrawn, true);
    assert.equal(clinic.cacheHorizon, T0 + 65);
    assert.equal(clinic.pending, null, 'the withdrawn asset\'s new set is dropped');
    assert.equal(clinic.current, null);
    assert.deepEqual(clinic.channels, { knot: 'removed' });
    assert.equal(disk.assets['ward.hospital.example']!.pending?.identifier, 'g2', 'the other asset\'s step is recorded');
    assert.equal(disk.nextGeneration, 3);
    // The daemon's own copy now agrees, so its next plan removes (never republishes) the withdrawn asset.
    assert.equal(daemon.assets['clinic.hospital.example']!.withdrawn, true);
    assert.equal(daemon.assets['clinic.hospital.example']!.pending, null);

    // org enable while the daemon still holds the withdrawn copy: the next daemon write does not re-withdraw.
    const enabler = await loadState(dir.path);
    Object.assign(assetState(enabler, 'clinic.hospital.example'), { withdrawn: false, withdrawnAt: null, cacheHorizon: null, failures: 0 });
    await saveAssets(dir.path, enabler, ['clinic.hospital.example']);
    await saveState(dir.path, daemon);
    assert.equal((await loadState(dir.path)).assets['clinic.hospital.example']!.withdrawn, false);
    assert.equal(daemon.assets['clinic.hospital.example']!.withdrawn, false);

    // withdraw/enable write only their assets: the daemon's later progress on others is not rolled back.
    const ward = (await loadState(dir.path)).assets['ward.hospital.example']!;
    assert.equal(ward.pending?.identifier, 'g2');
  } finally {
    dir.remove();
  }
});

test('the state lock serialises writers and is broken when its holder died (kill -9)', async () => {
  const dir = tempDir('emblem-org-lock-');
  try {
    await saveState(dir.path, published());
    // A lock left by a process that no longer exists.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(dir.path, 'state.lock'), `${dead}\n`);
    await saveState(dir.path, published());
    assert.equal(existsSync(join(dir.path, 'state.lock')), false);
    // Concurrent writers: each read-merge-write runs alone, so no withdrawal is lost whatever the interleaving.
    const order: string[] = [];
    await Promise.all(['a', 'b', 'c'].map((id) => withStateLock(dir.path, async () => {
      order.push(`${id}+`);
      await new Promise((r) => setTimeout(r, 20));
      order.push(`${id}-`);
    })));
    for (let i = 0; i < order.length; i += 2) assert.equal(order[i]![0], order[i + 1]![0], order.join(' '));
    const withdrawals = ['clinic.hospital.example', 'ward.hospital.example'].map(async (asset) => {
      const s = await loadState(dir.path);
      assetState(s, asset).withdrawn = true;
      await saveAssets(dir.path, s, [asset]);
    });
    const daemon = published();
    await Promise.all([...withdrawals, saveState(dir.path, daemon), saveState(dir.path, daemon)]);
    await saveState(dir.path, daemon);
    const disk = JSON.parse(readFileSync(join(dir.path, 'state.json'), 'utf8')) as OrgState;
    assert.deepEqual(Object.values(disk.assets).map((a) => a.withdrawn), [true, true]);
  } finally {
    dir.remove();
  }
});

test('signingKid: the recorded kid, else the kid in the JWS emblem header of the stored records', () => {
  const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
  const txt = (s: string) => txtRdata(Buffer.from(s)).toString('hex');
  const legacy: SetState = {
    ...set('g1'),
    records: [
      { name: 'clinic.hospital.example', type: 16, ttl: 60, rdata: txt(`adem-token-g1=${header({ alg: 'ES256', cty: 'adem-end', kid: 'root' })}.e30.c2ln`) },
      { name: 'clinic.hospital.example', type: 16, ttl: 60, rdata: txt(`adem-key-g1={"kty":"EC"}`) },
      { name: 'clinic.hospital.example', type: 16, ttl: 60, rdata: txt(`adem-token-g1=${header({ alg: 'ES256', cty: 'adem-emb', kid: 'emblem-kid' })}.e30.c2ln`) },
    ],
  };
  assert.equal(signingKid(legacy), 'emblem-kid');
  assert.equal(signingKid({ ...legacy, emblemKid: 'recorded' }), 'recorded');
  assert.equal(signingKid({ ...set('g1'), records: [{ name: 'x', type: 16, ttl: 60, rdata: txt('adem-token-g1=!!!.e30.x') }] }), null);
  assert.equal(signingKid(null), null);
});
