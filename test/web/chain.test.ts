import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { chainNodes } from '../../web/src/chain.js';
import { generateSigningKey, signToken } from '../../src/core/tokens/sign.js';
import { verifyMaterial } from '../../src/core/verify/index.js';
import { parseMaterialText } from '../../src/core/material/parse-text.js';
import { installNodeSignatureVerifier } from '../../src/crypto/node-signature-verifier.js';
import type { CommitmentChecker } from '../../src/core/verify/commitment.js';
import { JWS_LOG, NOW, NOW_S, DAY } from '../helpers/tokens.js';

installNodeSignatureVerifier();

// The chain drawing's model, from the server's report (levels, errors) plus the decoded tokens (claims only).
async function world(commitment: 'verified' | 'unavailable') {
  const [a, r, e] = await Promise.all(['authority', 'root', 'emblem'].map(async () => (await generateSigningKey('ES256')).key));
  const t = { iat: NOW_S - DAY, nbf: NOW_S - DAY, exp: NOW_S + 10 * DAY };
  const emblem = await signToken('jws', 'emblem', { ...t, iss: 'https://org.example', assets: ['clinic.org.example'], purposes: ['protective'] }, e!);
  const root = await signToken('jws', 'endorsement', { ...t, iss: 'https://org.example', sub: 'https://org.example', endorse: e!.publicKey, end: false, log: JWS_LOG }, r!);
  const ext = await signToken('jws', 'endorsement', { ...t, exp: NOW_S + 100 * DAY, iss: 'https://authority.example', sub: 'https://org.example', endorse: r!.publicKey, end: true, log: JWS_LOG }, a!);
  const text = [emblem.text, root.text, ext.text, ...[e!, r!, a!].map((k) => JSON.stringify(k.publicKey.jwk))].join('\n');
  const checker: CommitmentChecker = { check: async () => (commitment === 'verified' ? { status: 'verified', errors: [] } : { status: 'unavailable', errors: [{ code: 'CT_LOG_UNREACHABLE', message: 'down' }] }) };
  const report = await verifyMaterial(parseMaterialText(text).material, { now: NOW, commitments: checker });
  return { text, report, kids: { a: a!.publicKey.jwsKid, r: r!.publicKey.jwsKid, e: e!.publicKey.jwsKid } };
}

test('chain: emblem -> emblem key -> root key -> authority, kids and windows from the tokens, levels from the report', async () => {
  const { text, report, kids } = await world('verified');
  const nodes = chainNodes(report, text);
  assert.deepEqual(nodes.map((n) => n.role), ['emblem', 'emblem key', 'root key', 'authority']);
  assert.deepEqual(nodes.map((n) => n.state), ['reached', 'reached', 'reached', 'reached']);
  assert.deepEqual(nodes.map((n) => n.kid), [null, kids.e, kids.r, kids.a]);
  assert.equal(nodes[2]!.commitment, 'verified');
  assert.equal(nodes[2]!.logs.length, 1);
  assert.equal(nodes[3]!.validity?.to, '2027-02-09 12:00Z', 'the authority endorsement\'s exp (NOW + 100 days)');
  assert.equal(nodes[1]!.validity?.to, '2026-11-11 12:00Z', 'the internal endorsement\'s exp (NOW + 10 days)');
  // Without the tokens (a name check): the same nodes from the report alone, kids from emblem.chain.
  const bare = chainNodes(report);
  assert.deepEqual(bare.map((n) => [n.role, n.kid]), [['emblem', null], ['emblem key', kids.e], ['root key', kids.r], ['authority', null]]);
});

test('chain: an unreachable CT log leaves ORGANIZATIONAL "not established", never "failed"', async () => {
  const { text, report } = await world('unavailable');
  const nodes = chainNodes(report, text);
  assert.deepEqual(nodes.map((n) => n.state), ['reached', 'reached', 'not established', 'not established']);
});

test('chain: a broken emblem signature fails at SIGNED and the steps above are not reached', async () => {
  const { text, report } = await world('verified');
  const [first, ...rest] = text.split('\n');
  const parts = first!.split('.');
  parts[2] = `${parts[2]!.slice(0, 5)}${parts[2]![5] === 'A' ? 'B' : 'A'}${parts[2]!.slice(6)}`;
  const broken = [parts.join('.'), ...rest].join('\n');
  const bad = await verifyMaterial(parseMaterialText(broken).material, { now: NOW, commitments: { check: async () => ({ status: 'verified', errors: [] }) } });
  assert.ok(bad.errors.some((e) => e.code === 'SIGNATURE_INVALID'));
  const nodes = chainNodes(bad, broken);
  assert.equal(nodes[0]!.state, 'failed');
  assert.ok(nodes.slice(2).every((n) => n.state === 'not reached'), JSON.stringify(nodes.map((n) => n.state)));
  assert.ok(report.levels.length === 3);
});
