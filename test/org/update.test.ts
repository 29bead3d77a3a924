import fc from 'fast-check';
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sendUpdate, sendUpdateBatched } from '../../src/dns/update/client.js';
import { buildUpdateMessage } from '../../src/dns/update/message.js';
import { parseTsig, parseTsigKeyFile, signRequest, verifyResponse } from '../../src/dns/update/tsig.js';
import { txtRdata } from '../../src/dns/character-strings.js';
import { requireTool, tempDir } from '../dns/servers.js';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { makeKeyFile, startBindPrimary, startKnotPrimary, type Primary } from './primaries.js';

const KEY_TEXT = 'key "emblem-update" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ1Ng==";\n};\n';

test('tsig-keygen files parse; other algorithms and damaged files are refused with TSIG_KEY_INVALID', () => {
  const key = parseTsigKeyFile(KEY_TEXT);
  assert.equal(key.name, 'emblem-update');
  assert.equal(key.secret.toString(), 'secret-secret-secret-secret-123456');
  assert.throws(() => parseTsigKeyFile(KEY_TEXT.replace('hmac-sha256', 'hmac-md5')), { code: 'TSIG_KEY_INVALID' });
  assert.throws(() => parseTsigKeyFile('nothing here'), { code: 'TSIG_KEY_INVALID' });
  assert.throws(() => parseTsigKeyFile(KEY_TEXT.replace(/secret "[^"]+"/, 'secret "c2hvcnQ="')), { code: 'TSIG_KEY_INVALID' });
  // A secret with "//" in it (base64 of 0xff 0xff ...) is not a comment; comments around it still are.
  const slashes = Buffer.from([0xff, 0xff, 0xff, ...Buffer.from('-secret-secret-secret-1')]);
  assert.ok(slashes.toString('base64').includes('//'));
  const withSlashes = parseTsigKeyFile(`// made by tsig-keygen\n${KEY_TEXT.replace(/secret "[^"]+"/, `secret "${slashes.toString('base64')}"`)}# end\n`);
  assert.deepEqual(withSlashes.secret, slashes);
});

test('a secret containing "//" or "#" is not cut as a comment; comments outside quotes are ignored', () => {
  // 1 in ~100 random tsig-keygen secrets contains "//": the comment stripper must not touch quoted strings.
  const secret = Buffer.from([0xff, 0xff, 0xff, ...Array(29).fill(7)]).toString('base64');
  assert.match(secret, /\/\//);
  const text = `# made by tsig-keygen\nkey "k1" { // the update key\n\talgorithm hmac-sha256; /* note */\n\tsecret "${secret}";\n};\n`;
  assert.equal(parseTsigKeyFile(text).secret.toString('base64'), secret);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 64 }), (bytes) => {
      const b64 = Buffer.from(bytes).toString('base64');
      const key = parseTsigKeyFile(`key "emblem-update" {\n\talgorithm hmac-sha256;\n\tsecret "${b64}";\n};\n`);
      assert.deepEqual(new Uint8Array(key.secret), bytes);
    }),
    { numRuns: 500 },
  );
});

test('TSIG request MAC: HMAC-SHA256 over message + RFC 8945 §4.3.3 variables (derived by hand)', () => {
  const key = parseTsigKeyFile(KEY_TEXT);
  const msg = buildUpdateMessage(0x1234, 'hospital.example', { add: [{ name: 'clinic.hospital.example', type: 16, ttl: 60, rdata: txtRdata(Buffer.from('x')) }], remove: [] });
  const { message, mac } = signRequest(msg, key, 1_700_000_000, 300);
  // Variables: key name, class ANY, TTL 0, algorithm name, time (48 bits), fudge, error 0, other len 0.
  const vars = Buffer.concat([
    Buffer.from('\x0demblem-update\x00', 'latin1'), Buffer.from([0, 255, 0, 0, 0, 0]),
    Buffer.from('\x0bhmac-sha256\x00', 'latin1'), Buffer.from([0, 0, 0x65, 0x53, 0xf1, 0x00]), Buffer.from([1, 44, 0, 0, 0, 0]),
  ]);
  assert.deepEqual(mac, createHmac('sha256', key.secret).update(msg).update(vars).digest());
  assert.equal(message.readUInt16BE(10), 1);
  const parsed = parseTsig(message)!;
  assert.equal(parsed.keyName, 'emblem-update');
  assert.equal(parsed.timeSigned, 1_700_000_000);
  assert.deepEqual(parsed.unsigned, msg);
  // A response signed by "the server" with the request MAC verifies; a flipped bit or another secret does not.
  const response = Buffer.from(msg);
  response[2] = response[2]! | 0x80;
  const respVars = vars;
  const respMac = createHmac('sha256', key.secret).update(Buffer.from([0, 32])).update(mac).update(response).update(respVars).digest();
  const signedResponse = signRequest(response, key, 1_700_000_000, 300); // same layout; replace the MAC below
  const at = signedResponse.message.indexOf(signedResponse.mac);
  respMac.copy(signedResponse.message, at);
  verifyResponse(signedResponse.message, key, mac, 1_700_000_100, 'test');
  assert.throws(() => verifyResponse(signedResponse.message, key, mac, 1_700_001_000, 'test'), { code: 'TSIG_BADTIME' });
  const other = { ...key, secret: Buffer.alloc(32, 7) };
  assert.throws(() => verifyResponse(signedResponse.message, other, mac, 1_700_000_100, 'test'), { code: 'TSIG_RESPONSE_BADSIG' });
});

function dig(port: number, name: string, type: string): string {
  return spawnSync('dig', ['+short', '+norec', '-p', String(port), '@127.0.0.1', name, type], { env: thirdPartyEnv(), encoding: 'utf8', timeout: 10_000 }).stdout;
}

async function exercise(primary: Primary): Promise<void> {
  const key = parseTsigKeyFile(readFileSync(primary.keyFile, 'utf8'));
  const target = { host: '127.0.0.1', port: primary.port, zone: primary.zone, key };
  const owner = `clinic.${primary.zone}`;
  const a = { name: owner, type: 16, ttl: 60, rdata: txtRdata(Buffer.from('adem-token=aaaa')) };
  const b = { name: owner, type: 16, ttl: 60, rdata: txtRdata(Buffer.from('adem-token=bbbb')) };
  const ihle = { name: owner, type: 65400, ttl: 60, rdata: Buffer.from([0xa1, 0x01, 0x02]) };
  await sendUpdate(target, { add: [a, ihle], remove: [] });
  assert.match(dig(primary.port, owner, 'TXT'), /adem-token=aaaa/);
  assert.match(dig(primary.port, owner, 'TYPE65400'), /\\# 3 A10102/i);
  // Swap in one message: both changes or neither.
  await sendUpdate(target, { add: [b], remove: [a, ihle] });
  const after = dig(primary.port, owner, 'TXT');
  assert.match(after, /bbbb/);
  assert.doesNotMatch(after, /aaaa/);
  assert.equal(dig(primary.port, owner, 'TYPE65400').trim(), '');
  // Wrong secret: the server rejects the signature.
  const wrong = { ...target, key: { ...key, secret: Buffer.alloc(32, 1) } };
  await assert.rejects(sendUpdate(wrong, { add: [a], remove: [] }), { code: 'TSIG_BADSIG' });
  // Unknown key name.
  const unknown = { ...target, key: { ...key, name: 'nobody' } };
  await assert.rejects(sendUpdate(unknown, { add: [a], remove: [] }), { code: 'TSIG_BADKEY' });
  // No key: refused by the update ACL.
  await assert.rejects(sendUpdate({ ...target, key: null }, { add: [a], remove: [] }), (err: { code: string }) => ['DNS_UPDATE_REFUSED', 'DNS_UPDATE_NOTAUTH'].includes(err.code));
  // A zone the server is not authoritative for.
  await assert.rejects(sendUpdate({ ...target, zone: 'other.example' }, { add: [{ ...a, name: 'x.other.example' }], remove: [] }), (err: { code: string }) => /DNS_UPDATE_(NOTAUTH|REFUSED|NOTZONE)/.test(err.code));
  assert.doesNotMatch(dig(primary.port, owner, 'TXT'), /aaaa/);

  // A change larger than one message (several messages, some in flight at once): all 300 records arrive, then all go.
  const many = Array.from({ length: 300 }, (_, i) => ({ name: `n${i % 30}.batch.${primary.zone}`, type: 16, ttl: 60, rdata: txtRdata(Buffer.from(`adem-token=batch-${i}`)) }));
  await sendUpdateBatched(target, { add: many, remove: [] });
  const counts = () => Array.from({ length: 30 }, (_, n) => dig(primary.port, `n${n}.batch.${primary.zone}`, 'TXT').trim().split('\n').filter(Boolean).length);
  assert.deepEqual(counts(), Array(30).fill(10));
  await sendUpdateBatched(target, { add: [], remove: many });
  assert.deepEqual(counts(), Array(30).fill(0));
}

test('RFC 2136 + TSIG against Knot: add, atomic swap, BADSIG, BADKEY, unsigned refused', { timeout: 60_000 }, async (t) => {
  if (!requireTool(t, 'knotd') || !requireTool(t, 'tsig-keygen')) return;
  const primary = await startKnotPrimary();
  try {
    await exercise(primary);
  } finally {
    await primary.stop();
  }
});

test('RFC 2136 + TSIG against BIND named: add, atomic swap, BADSIG, BADKEY, unsigned refused', { timeout: 60_000 }, async (t) => {
  if (!requireTool(t, 'named') || !requireTool(t, 'tsig-keygen')) return;
  const primary = await startBindPrimary();
  try {
    await exercise(primary);
  } finally {
    await primary.stop();
  }
});

test('an unreachable primary is DNS_UPDATE_UNREACHABLE naming the server', { timeout: 20_000 }, async (t) => {
  if (!requireTool(t, 'tsig-keygen')) return;
  const dir = tempDir();
  try {
    const key = parseTsigKeyFile(readFileSync(makeKeyFile(dir.path).path, 'utf8'));
    await assert.rejects(
      sendUpdate({ host: '127.0.0.1', port: 1, zone: 'hospital.example', key }, { add: [{ name: 'hospital.example', type: 16, ttl: 1, rdata: txtRdata(Buffer.from('x')) }], remove: [] }, { timeoutMs: 2_000 }),
      (err: { code: string; message: string }) => err.code === 'DNS_UPDATE_UNREACHABLE' && err.message.includes('127.0.0.1:1'),
    );
  } finally {
    dir.remove();
  }
});

test('a client clock 2 years off: the signed BADTIME answer gives the server time and the UPDATE is retried (Knot)', { timeout: 60_000 }, async (t) => {
  if (!requireTool(t, 'knotd') || !requireTool(t, 'tsig-keygen')) return;
  const primary = await startKnotPrimary();
  try {
    const key = parseTsigKeyFile(readFileSync(primary.keyFile, 'utf8'));
    const owner = `clinic.${primary.zone}`;
    const skewed = () => Math.floor(Date.now() / 1000) + 730 * 86400;
    await sendUpdate({ host: '127.0.0.1', port: primary.port, zone: primary.zone, key }, { add: [{ name: owner, type: 16, ttl: 60, rdata: txtRdata(Buffer.from('skewed')) }], remove: [] }, { nowSeconds: skewed });
    assert.match(dig(primary.port, owner, 'TXT'), /skewed/);
  } finally {
    await primary.stop();
  }
});
