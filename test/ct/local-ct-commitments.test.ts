/** The demo's commitment set-up: real CT commitments for generated root keys, both eras, both pointer kinds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKey } from '../../src/core/tokens/sign.js';
import { prepareLocalCtCommitments } from '../../src/ct/local-ct-commitments.js';
import { tempDir } from './fixtures.js';

test('prepareLocalCtCommitments commits each root for both eras, and only for its own host', async () => {
  const dir = tempDir();
  const org = (await generateSigningKey('ES512')).key.publicKey;
  const authority = (await generateSigningKey('ES512')).key.publicKey;
  const commitments = await prepareLocalCtCommitments(dir.path, [
    { name: 'orgRoot', host: 'hospital.example', key: org },
    { name: 'authority', host: 'authority.example', key: authority },
  ]);
  try {
    assert.ok(existsSync(join(dir.path, 'ca.pem')) && existsSync(join(dir.path, 'orgRoot.chain.pem')));
    for (const era of ['jws', 'cwt'] as const) {
      const kid = era === 'jws' ? org.jwsKid : org.coseKidText;
      const logs = commitments.logFor('orgRoot', era);
      assert.equal(logs.length, 2);
      assert.equal(logs[0]!.ver, era === 'jws' ? 'v1' : undefined);
      const base = { era, issuer: 'https://hospital.example', host: 'hospital.example', kid, publicKey: org.jwk as JsonWebKey, now: new Date() };
      const ok = await commitments.checker.check({ ...base, logs });
      assert.equal(ok.status, 'verified', JSON.stringify(ok.errors));
      const wrongHost = await commitments.checker.check({ ...base, host: 'authority.example', issuer: 'https://authority.example', logs });
      assert.equal(wrongHost.status, 'failed');
      const otherRoot = await commitments.checker.check({ ...base, logs: commitments.logFor('authority', era) });
      assert.equal(otherRoot.status, 'failed');
    }
  } finally {
    await commitments.close();
    dir.remove();
  }
});
