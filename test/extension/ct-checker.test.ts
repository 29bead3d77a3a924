/**
 * The browser's CT commitment checker (src/browser/ct-commitment-checker.ts) in Node, on WebCrypto
 * (globalThis.crypto) and fetch only, against the project's local CT log and the CT tests' tampering proxy:
 * a real commitment verifies through both pointer kinds, a lying log fails with its own code, and a log that
 * cannot be reached (or may not be reached) leaves the commitment unavailable, never failed.
 */
import assert from 'node:assert/strict';
import { sign as nodeSign } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createBrowserCommitmentChecker, readLogListText } from '../../src/browser/ct-commitment-checker.js';
import { ecdsaDerToP1363, gunzipWithStreams, verifyDigitallySignedWebCrypto } from '../../src/browser/ct-webcrypto.js';
import type { LogEntryReport } from '../../src/ct/commitment-checker-base.js';
import { issueBindingCertificate, issueLoggedCertificate, type LoggedCertificate } from '../../src/ct/local-ca.js';
import { verifyDigitallySigned } from '../../src/ct/signature.js';
import { NOW } from '../helpers/tokens.js';
import { editJson, flipBase64, request, startCaAndLog, startTamperingProxy, type CaAndLog, type TamperingProxy } from '../ct/fixtures.js';
import { freshEcKeyPair } from '../helpers/fresh-key-pair.js';

const HOST = 'hospital.example';
const KID = 'n5e6i7nfwq3k2ymzttu7ynlu3ouhb2dmazwxhsjvchd6zwd5wfha';

describe('browser CT commitment checker (WebCrypto + fetch)', () => {
  let env: CaAndLog;
  let proxy: TamperingProxy;
  let bound: LoggedCertificate;
  let logList: string;
  let proxiedList: string;
  const requested: string[] = [];

  before(async () => {
    env = await startCaAndLog();
    await issueLoggedCertificate(env.ca, env.log.url, { dnsNames: ['filler.example'] });
    bound = await issueBindingCertificate(env.ca, env.log.url, { host: HOST, kid: KID });
    await issueLoggedCertificate(env.ca, env.log.url, { dnsNames: ['filler2.example'], precertificate: false });
    proxy = await startTamperingProxy(env.log.url);
    logList = await (await fetch(env.log.logListUrl)).text();
    proxiedList = await (await fetch(proxy.logListUrl)).text();
  });

  after(async () => {
    await proxy?.close();
    await env?.log.close();
  });

  const checker = (text: string) =>
    createBrowserCommitmentChecker({
      logListText: text,
      http: async (url, req) => {
        requested.push(url);
        const { fetchHttp } = await import('../../src/ct/http.js');
        return fetchHttp(url, req);
      },
    });

  it('verifies the binding certificate through the RFC 6962 API and the static-ct tiles, with the log name and index', async () => {
    requested.length = 0;
    const outcome = await checker(logList).check(request(HOST, KID, [bound.v1, bound.static], NOW));
    assert.equal(outcome.status, 'verified', JSON.stringify(outcome.errors));
    assert.deepEqual(outcome.errors, []);
    const entries = outcome.entries as LogEntryReport[];
    assert.equal(entries.length, 2);
    for (const e of entries) {
      assert.equal(e.status, 'verified');
      assert.match(e.logDescription ?? '', /local/i);
      assert.equal(e.leafIndex, bound.static.ver === 'static' ? bound.static.index : -1);
      assert.ok((e.treeSize ?? 0) > e.leafIndex!);
      assert.deepEqual(e.binding?.matched, [`${KID}.adem-configuration.${HOST}`, `adem-configuration.${HOST}`]);
      assert.equal(e.chain?.valid, 'not-checked');
    }
    // Only the listed log's URLs were asked: RFC 6962 read API and static-ct checkpoint/tiles, nothing else.
    assert.ok(requested.length >= 4);
    assert.deepEqual(requested.filter((u) => !u.startsWith(env.log.url)), []);
    assert.ok(requested.some((u) => u.includes('/ct/v1/get-proof-by-hash')) && requested.some((u) => u.endsWith('/checkpoint')));
  });

  it('a tampered audit path, tree head signature or hash tile fails with its own code', async () => {
    const cases: Array<[string, (path: string, body: Buffer) => Buffer, typeof bound.v1, string]> = [
      ['audit path', (p, b) => (p === 'ct/v1/get-proof-by-hash' ? editJson(b, (j) => ((j.audit_path as string[])[0] = flipBase64((j.audit_path as string[])[0]!))) : b), bound.v1, 'CT_AUDIT_PATH_INVALID'],
      ['STH signature', (p, b) => (p === 'ct/v1/get-sth' ? editJson(b, (j) => (j.tree_head_signature = flipBase64(j.tree_head_signature as string))) : b), bound.v1, 'CT_STH_SIGNATURE_INVALID'],
      ['hash tile', (p, b) => {
        if (!p.startsWith('tile/0/') || p.startsWith('tile/data')) return b;
        const out = Buffer.from(b);
        out[0]! ^= 1;
        return out;
      }, bound.static, 'CT_'],
    ];
    for (const [what, tamper, entry, code] of cases) {
      proxy.tamper = tamper;
      try {
        const outcome = await checker(proxiedList).check(request(HOST, KID, [entry], NOW));
        assert.equal(outcome.status, 'failed', what);
        assert.ok(outcome.errors.length > 0 && outcome.errors.every((e) => String(e.code).startsWith(code)), `${what}: ${JSON.stringify(outcome.errors)}`);
      } finally {
        proxy.tamper = null;
      }
    }
  });

  it('a certificate that does not name the key fails (CT_BINDING_NAME_MISSING)', async () => {
    const outcome = await checker(logList).check(request(HOST, 'someotherkid', [bound.v1], NOW));
    assert.equal(outcome.status, 'failed');
    assert.ok(outcome.errors.some((e) => e.code === 'CT_BINDING_NAME_MISSING'));
  });

  it('an unreachable log, or one the extension may not reach, is unavailable (not checked), never failed', async () => {
    const closed = JSON.parse(logList) as { operators: Array<{ logs?: Array<{ url: string }>; tiled_logs?: Array<{ monitoring_url: string }> }> };
    for (const op of closed.operators) {
      for (const l of op.logs ?? []) l.url = 'http://127.0.0.1:9/';
      for (const l of op.tiled_logs ?? []) l.monitoring_url = 'http://127.0.0.1:9/';
    }
    const down = await checker(JSON.stringify(closed)).check(request(HOST, KID, [bound.v1, bound.static], NOW));
    assert.equal(down.status, 'unavailable');
    assert.deepEqual([...new Set(down.errors.map((e) => e.code))], ['CT_LOG_UNREACHABLE']);

    // Plain http off loopback is refused before any request is made.
    requested.length = 0;
    for (const op of closed.operators) for (const l of op.logs ?? []) l.url = 'http://ct.example/';
    const refused = await checker(JSON.stringify(closed)).check(request(HOST, KID, [bound.v1], NOW));
    assert.equal(refused.status, 'unavailable');
    assert.match(refused.errors[0]!.message, /not fetched/);
    assert.deepEqual(requested, []);
  });

  it('a log list that is not one is refused with CT_LOG_LIST_INVALID', () => {
    assert.throws(() => readLogListText('{"operators": 3}', 'test'), { code: 'CT_LOG_LIST_INVALID' });
    assert.throws(() => readLogListText('not json', 'test'), { code: 'CT_LOG_LIST_INVALID' });
    assert.equal(readLogListText(logList, 'test').logs.length, 2);
  });

  it('WebCrypto verification agrees with node:crypto on DER ECDSA signatures; hostile DER never throws', async () => {
    const { privateKey, publicKey } = freshEcKeyPair('prime256v1');
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (data, corrupt) => {
        const sig = new Uint8Array(nodeSign('sha256', data, privateKey));
        if (corrupt) sig[sig.length - 1]! ^= 1;
        const ds = { hashAlgorithm: 4, signatureAlgorithm: 3, signature: sig };
        assert.equal(await verifyDigitallySignedWebCrypto(spki, data, ds), verifyDigitallySigned(spki, data, ds));
      }),
      { numRuns: 40 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (der) => {
      const out = ecdsaDerToP1363(der, 32);
      assert.ok(out === null || out.length === 64);
    }), { numRuns: 500 });
    assert.equal(await verifyDigitallySignedWebCrypto(new Uint8Array(10), new Uint8Array(1), { hashAlgorithm: 4, signatureAlgorithm: 3, signature: new Uint8Array(8) }), false);
  });

  it('gzip tiles are inflated with DecompressionStream, and bounded', async () => {
    const tile = new Uint8Array(8192).map((_, i) => i % 251);
    assert.deepEqual(await gunzipWithStreams(new Uint8Array(gzipSync(tile)), 8192, 'tile'), tile);
    assert.deepEqual(await gunzipWithStreams(tile, 10, 'tile'), tile, 'not gzip: returned as is');
    await assert.rejects(gunzipWithStreams(new Uint8Array(gzipSync(tile)), 100, 'tile'), { code: 'CT_RESPONSE_MALFORMED' });
  });
});
