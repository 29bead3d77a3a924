/**
 * The Node API of src/index.ts in-process: scan and checkName against `emblem dns serve` on loopback (the scan test
 * world: every category of result), signing round trips, CT log entries of the interop certificates, and the typed
 * errors bad arguments get. The packed-package test (package.test.ts) covers the same entry point as installed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  checkName,
  createCommitmentChecker,
  EmblemError,
  generateKey,
  logEntriesFromChain,
  parsePublicKey,
  readPrivateKeyFile,
  scan,
  signEmblem,
  signEndorsement,
  verifyTokenSet,
  writePrivateKeyFile,
  type ScanResult,
} from '../../src/index.js';
import { parsePemCertificates, summarizeCertificate } from '../../src/ct/certificate.js';
import { prepareLocalCtCommitments } from '../../src/ct/local-ct-commitments.js';
import { SHARED } from '../helpers/cli.js';
import { parseMaterialText } from '../../src/core/material/parse-text.js';
import type { Material } from '../../src/core/material/material.js';
import { NOW } from '../helpers/tokens.js';
import { buildScanWorld, type ScanWorld } from '../scan/scan-fixture.js';
import { startDnsServer, tempDir, type RunningDnsServer } from '../scan/scan-helpers.js';

const NAMES = 60;

async function rejectsWithCode(promise: Promise<unknown> | (() => Promise<unknown>), code: string, message?: RegExp): Promise<void> {
  await assert.rejects(typeof promise === 'function' ? promise() : promise, (err: unknown) => {
    assert.ok(err instanceof EmblemError, `expected an EmblemError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

async function collect(results: AsyncIterable<ScanResult>): Promise<ScanResult[]> {
  const out: ScanResult[] = [];
  for await (const r of results) out.push(r);
  return out;
}

describe('scan and checkName against a local authoritative server', { timeout: 180_000 }, () => {
  let tmp: ReturnType<typeof tempDir>;
  let world: ScanWorld;
  let server: RunningDnsServer;
  let names: string[];

  before(async () => {
    tmp = tempDir('emblem-library-');
    world = await buildScanWorld(tmp.dir, NAMES);
    server = await startDnsServer(world.zoneFiles, join(tmp.dir, 'stats.json'));
    names = world.expectations.map((e) => e.name);
  });

  after(async () => {
    await server?.stop();
    tmp?.remove();
  });

  it('yields one result per name, in input order, with the status and level the world expects', async () => {
    // An async generator as input, so names are pulled lazily as slots free up.
    async function* input(): AsyncGenerator<string> {
      for (const n of names) yield n;
    }
    const results = await collect(scan(input(), { resolver: server.address, at: NOW, commitments: 'skip', concurrency: 7 }));
    assert.deepEqual(results.map((r) => r.index), names.map((_, i) => i));
    results.forEach((r, i) => {
      const want = world.expectations[i]!;
      assert.equal(r.report.target, want.name);
      assert.equal(r.report.status, want.status, `${want.name}: ${JSON.stringify(r.report.errors)}`);
      assert.equal(r.report.level, want.level, want.name);
    });
    // The world has every kind of result, so the comparison above means something.
    assert.deepEqual(new Set(results.map((r) => r.report.status)), new Set(['protected', 'expired', 'invalid', 'not-covered', 'no-emblem', 'nxdomain']));
  });

  it('verifies on worker threads too, and an unusable name is an error result, not an exception', async () => {
    const input = [names[0]!, 'not a name!', names[1]!];
    const results = await collect(scan(input, { resolver: server.address, at: NOW, commitments: 'skip', workers: 1 }));
    assert.equal(results.length, 3);
    assert.equal(results[0]!.report.status, world.expectations[0]!.status);
    assert.equal(results[1]!.report.status, 'error');
    assert.equal(results[1]!.report.errors[0]!.code, 'INPUT_INVALID');
    assert.equal(results[2]!.report.status, world.expectations[1]!.status);
  });

  it('stops pulling names, and closes the input, when the caller stops iterating or the signal aborts', async () => {
    let pulled = 0;
    let closed = false;
    function* counting(): Generator<string> {
      try {
        for (const n of names) {
          pulled++;
          yield n;
        }
      } finally {
        closed = true;
      }
    }
    const seen: number[] = [];
    for await (const r of scan(counting(), { resolver: server.address, at: NOW, commitments: 'skip', concurrency: 2 })) {
      seen.push(r.index);
      if (seen.length === 3) break;
    }
    assert.deepEqual(seen, [0, 1, 2]);
    // What may have been pulled when the caller breaks: the 3 yielded, up to `concurrency` (2) in flight, and finished
    // ones waiting for an earlier result — with batched UDP several answers land in one turn, so up to 2 more.
    assert.ok(names.length > 20, 'the input is much longer than what may be read ahead');
    assert.ok(pulled <= 3 + 2 * 2, `pulled ${pulled} names for 3 results with concurrency 2`);
    assert.ok(closed, 'the input generator was left suspended');

    pulled = 0;
    closed = false;
    const controller = new AbortController();
    const afterAbort: number[] = [];
    for await (const r of scan(counting(), { resolver: server.address, at: NOW, commitments: 'skip', concurrency: 2, signal: controller.signal })) {
      afterAbort.push(r.index);
      controller.abort();
    }
    // What was in flight when the signal came finishes and is yielded, in order; nothing after it starts.
    assert.ok(afterAbort.length >= 1 && afterAbort.length <= 4, `yielded ${afterAbort.length} results after aborting`);
    assert.deepEqual(afterAbort, afterAbort.map((_, i) => i));
    assert.ok(pulled <= 4, `pulled ${pulled} names`);
    assert.ok(closed, 'the input generator was left suspended after the abort');
  });

  it('checkName reports a protected name with its level and discovery details', async () => {
    const i = world.expectations.findIndex((e) => e.status === 'protected');
    const want = world.expectations[i]!;
    const report = await checkName(want.name, { resolver: server.address, at: NOW, commitments: 'skip' });
    assert.equal(report.status, 'protected');
    assert.equal(report.level, want.level);
    assert.equal(report.discovery?.resolver, server.address);
    assert.ok(report.sets.length >= 1);
  });

  it('a resolver that does not answer is status error (could not check), never invalid', async () => {
    // Port 9 (discard) on loopback: nothing answers there.
    const report = await checkName(names[0]!, { resolver: '127.0.0.1:9', at: NOW, commitments: 'skip', timeoutMs: 200, attempts: 1 });
    assert.equal(report.status, 'error');
    assert.ok(report.errors.length > 0);
  });
});

describe('signing and verifying', () => {
  it('signs a JWS and a CWT chain that verify at the given time and not after expiry', async () => {
    const root = await generateKey('ES256');
    const emblemKey = await generateKey('ES256');
    const org = 'https://org.example';
    const validity = { notBefore: new Date(NOW.getTime() - 86_400_000), expires: new Date(NOW.getTime() + 86_400_000) };
    const log = [{ ver: 'v1' as const, id: Buffer.alloc(32, 1).toString('base64'), hash: Buffer.alloc(32, 2).toString('base64') }];
    for (const era of ['jws', 'cwt'] as const) {
      const emblem = await signEmblem({ ...validity, issuer: org, assets: ['org.example'] }, emblemKey.signingKey, { era });
      const endorsement = await signEndorsement({ ...validity, issuer: org, subject: org, endorse: emblemKey.publicJwk, log }, root.privateJwk, { era });
      if (era === 'cwt') assert.match(emblem, /^[0-9a-f]+$/i);
      const material = [emblem, endorsement, JSON.stringify(emblemKey.publicJwk)].join('\n');
      const options = { at: NOW, trustedKeys: [root.publicJwk], commitments: 'skip' as const };
      const report = await verifyTokenSet(material, options);
      assert.equal(report.era, era);
      assert.deepEqual(report.result, ['ORGANIZATIONAL-TRUSTED'], JSON.stringify(report.errors));
      assert.equal(report.commitment, 'skipped');
      const later = await verifyTokenSet(material, { ...options, at: new Date(NOW.getTime() + 2 * 86_400_000) });
      assert.deepEqual(later.result, ['INVALID']);
      assert.ok(later.errors.some((e) => e.code === 'TOKEN_EXPIRED'), JSON.stringify(later.errors));
    }
  });

  it('threadPool: true (worker threads) gives the reports of the default path, for the live sets intact and tampered, 8 in flight', async () => {
    const at = new Date('2026-06-17T00:10:00Z');
    const texts: Array<string | Material[]> = [];
    for (const file of ['emblem.felixlinker.de.txt', 'emblem.redcross.org.uk.txt', 'cyberstar.online.txt']) {
      const text = readFileSync(join(SHARED, 'interop', 'dns', file), 'utf8');
      // The emblem's signature with its last character changed: the report turns INVALID on both paths alike.
      const material = parseMaterialText(text).material.map((m, i) => (i === 0 && m.kind === 'jws' ? { ...m, text: m.text.slice(0, -1) + (m.text.endsWith('A') ? 'B' : 'A') } : m));
      texts.push(text, material);
    }
    const all = [...texts, ...texts, ...texts].slice(0, 8);
    const sequential = [];
    for (const text of all) sequential.push(await verifyTokenSet(text, { at, commitments: 'skip' }));
    const concurrent = await Promise.all(all.map((text) => verifyTokenSet(text, { at, commitments: 'skip', threadPool: true })));
    assert.deepEqual(concurrent, sequential);
    assert.ok(sequential.some((r) => r.result[0] === 'INVALID') && sequential.some((r) => r.result[0] !== 'INVALID'));
  });

  it('keeps a private key file readable only by its owner and reads it back', async () => {
    const tmp = tempDir('emblem-library-key-');
    try {
      const key = await generateKey();
      const file = join(tmp.dir, 'k.jwk');
      assert.deepEqual(await writePrivateKeyFile(file, key.privateJwk), { encrypted: false });
      assert.deepEqual(await readPrivateKeyFile(file), key.privateJwk);
      const { statSync } = await import('node:fs');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal((await parsePublicKey(JSON.stringify(key.publicJwk))).jwsKid, key.kid);
    } finally {
      tmp.remove();
    }
  });

  it('gives the CT log entries of the deployed binding certificates', async () => {
    const certs = join(SHARED, 'interop', 'certs');
    for (const host of ['auth.felixlinker.de', 'emblem.felixlinker.de']) {
      const expected = JSON.parse(readFileSync(join(certs, `${host}.logs.json`), 'utf8')) as unknown;
      const entries = await logEntriesFromChain(readFileSync(join(certs, `${host}.fullchain.pem`), 'utf8'));
      assert.deepEqual(entries.map((e) => e.log), expected);
    }
  });
});

describe('root-key commitments through the library, against a local CT log', { timeout: 120_000 }, () => {
  it('signs a root endorsement with the log entries of its certificate, and the CT checker verifies them', async () => {
    const tmp = tempDir('emblem-library-ct-');
    const root = await generateKey('ES512');
    const other = await generateKey('ES512');
    const emblemKey = await generateKey('ES512');
    const ct = await prepareLocalCtCommitments(tmp.dir, [{ name: 'root', host: 'hospital.example', key: root.signingKey.publicKey }]);
    try {
      const chainPem = readFileSync(join(tmp.dir, 'root.chain.pem'), 'utf8');
      const entries = await logEntriesFromChain(chainPem);
      assert.ok(entries.length >= 1);
      // The certificate was issued just now by the local CA: verify as of a minute after its start, not "today".
      const at = new Date(summarizeCertificate(parsePemCertificates(chainPem)[0]!).notBefore.getTime() + 60_000);
      const validity = { notBefore: new Date(at.getTime() - 3_600_000), expires: new Date(at.getTime() + 86_400_000) };
      const org = 'https://hospital.example';
      const set = async (signer: typeof root) =>
        [
          await signEmblem({ ...validity, issuer: org, assets: ['hospital.example'] }, emblemKey.signingKey),
          await signEndorsement({ ...validity, issuer: org, subject: org, endorse: emblemKey.publicJwk, log: entries.map((e) => e.log) }, signer.signingKey),
          JSON.stringify(emblemKey.publicJwk),
          JSON.stringify(signer.publicJwk),
        ].join('\n');
      const checker = await createCommitmentChecker({ logList: [ct.logListUrl], cacheDir: join(tmp.dir, 'cache') });

      const committed = await verifyTokenSet(await set(root), { at, commitments: checker });
      assert.equal(committed.commitment, 'verified', JSON.stringify(committed.errors));
      assert.deepEqual(committed.result, ['ORGANIZATIONAL-UNTRUSTED']);
      assert.deepEqual(committed.errors, []);
      // The options form builds its own checker.
      const viaOptions = await verifyTokenSet(await set(root), { at, commitments: { logList: [ct.logListUrl], cacheDir: join(tmp.dir, 'cache2') } });
      assert.equal(viaOptions.commitment, 'verified', JSON.stringify(viaOptions.errors));

      // Another key signing with the same entries: the logged certificate does not name it.
      const impostor = await verifyTokenSet(await set(other), { at, commitments: checker });
      assert.equal(impostor.commitment, 'failed');
      assert.deepEqual(impostor.result, ['INVALID'], JSON.stringify(impostor));
    } finally {
      await ct.close();
      tmp.remove();
    }
  });
});

describe('bad arguments throw EmblemError with a stable code', () => {
  it('verification without a commitments choice, or with a bad time or policy', async () => {
    const bad = (options: unknown) => verifyTokenSet('', options as never);
    await rejectsWithCode(bad({ at: NOW }), 'USAGE', /commitments/);
    await rejectsWithCode(bad(undefined), 'USAGE');
    await rejectsWithCode(bad({ commitments: 'skip', at: new Date('x') }), 'USAGE', /at/);
    await rejectsWithCode(bad({ commitments: 'skip', policy: 'lenient' }), 'USAGE', /policy/);
    await rejectsWithCode(bad({ commitments: 'skip', trustedKeys: ['not a key'] }), 'KEY_INVALID');
  });

  it('lookups with a malformed resolver, name or range', async () => {
    await rejectsWithCode(checkName('example.org', { resolver: 'resolver.example', commitments: 'skip' }), 'USAGE');
    await rejectsWithCode(checkName('example.org', { resolver: '127.0.0.1', commitments: 'skip', timeoutMs: 0 }), 'USAGE', /timeoutMs/);
    await rejectsWithCode(checkName('a..b', { resolver: '127.0.0.1', commitments: 'skip' }), 'DNS_NAME_INVALID');
    await rejectsWithCode(() => collect(scan('example.org' as never, { commitments: 'skip' })), 'USAGE', /iterable/);
    await rejectsWithCode(() => collect(scan([], { commitments: 'skip', concurrency: 0 })), 'USAGE', /concurrency/);
  });

  it('signing with bad claims', async () => {
    const key = (await generateKey('ES256')).signingKey;
    const validity = { notBefore: NOW, expires: new Date(NOW.getTime() + 1000) };
    await rejectsWithCode(signEmblem({ ...validity, assets: ['not an asset!'] }, key), 'USAGE', /assets/);
    await rejectsWithCode(signEmblem({ ...validity, assets: [] }, key), 'USAGE', /assets/);
    await rejectsWithCode(signEmblem({ notBefore: NOW, expires: NOW, assets: ['a.example'] }, key), 'USAGE', /expires/);
    await rejectsWithCode(signEmblem({ ...validity, assets: ['a.example'], issuer: 'http://a.example' }, key), 'USAGE', /issuer/);
    await rejectsWithCode(signEmblem({ ...validity, assets: ['a.example'] }, { kty: 'EC' }), 'KEY_INVALID');
    const endorse = (await generateKey('ES256')).publicJwk;
    await rejectsWithCode(signEndorsement({ ...validity, endorse, log: [{ ver: 'v1', id: 'AA==', hash: 'AA==' }] }, key), 'USAGE', /32 bytes/);
  });
});
