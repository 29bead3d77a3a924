/** The local CT log (`emblem ct serve` and startLocalCtLog): write and read APIs, tiles, persistence. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createInterface } from 'node:readline';
import { CLI } from '../helpers/cli.js';
import { hashLeaf, verifyConsistency, verifyInclusion } from '../../src/core/merkle/index.js';
import { createLocalCa, issueCertificate, issueLoggedCertificate } from '../../src/ct/local-ca.js';
import { fetchHttp, type HttpClient } from '../../src/ct/http.js';
import { parseMerkleTreeLeaf } from '../../src/ct/merkle-tree-leaf.js';
import { parseLogList } from '../../src/ct/log-list.js';
import { StaticCtClient } from '../../src/ct/static-ct-client.js';
import { Rfc6962Client } from '../../src/ct/rfc6962-client.js';
import { submitChain } from '../../src/ct/submission.js';
import { leafIndexFromExtensions } from '../../src/ct/sct.js';
import { checkerFor, request, startCaAndLog, tempDir } from './fixtures.js';
import { startLocalCtLog } from '../../src/ct/local-log/start-local-ct-log.js';

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

/** Starts `emblem ct serve` as a user would and waits for its ready line. */
async function serve(args: string[]): Promise<{ ready: { url: string; logListUrl: string; logId: string }; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'ct', 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`ct serve exited ${code}: ${stderr}`)));
  });
  return {
    ready: JSON.parse(line),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

test('emblem ct serve: log list, write API, incorporation, read API, persistence across restarts', async () => {
  const dir = tempDir();
  const ca = await createLocalCa();
  const roots = join(dir.path, 'ca.pem');
  writeFileSync(roots, ca.pem);
  const state = join(dir.path, 'state');
  let server = await serve(['--listen', '127.0.0.1:0', '--roots', roots, '--state', state]);
  try {
    const { url, logListUrl, logId } = server.ready;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

    // /log_list.json describes the log: url ends in "/", log_id is the SHA-256 of its key.
    const list = (await json(logListUrl)).body;
    const listed = list.operators[0].logs[0];
    assert.equal(listed.url, url);
    assert.equal(listed.log_id, createHash('sha256').update(Buffer.from(listed.key, 'base64')).digest('base64'));
    assert.equal(listed.log_id, logId);
    assert.equal(list.operators[0].tiled_logs[0].monitoring_url, url);
    assert.equal(parseLogList(list, 'served').warnings.length, 0);

    assert.deepEqual((await json(`${url}ct/v1/get-roots`)).body.certificates, [Buffer.from(ca.certificate).toString('base64')]);
    assert.equal((await json(`${url}ct/v1/get-sth`)).body.tree_size, 0);

    // add-chain answers once the entry is in a signed tree head: provable right away.
    const cert = await issueCertificate(ca, { dnsNames: ['a.example'] });
    const sct = await submitChain(url, [cert, ca.certificate]);
    assert.equal(leafIndexFromExtensions(sct.extensions), 0);
    const sth = (await json(`${url}ct/v1/get-sth`)).body;
    assert.equal(sth.tree_size, 1);
    const precert = await issueLoggedCertificate(ca, url, { dnsNames: ['b.example'] });
    assert.equal(precert.static.ver === 'static' && precert.static.index, 1);

    const client = new Rfc6962Client({ url, key: new Uint8Array(Buffer.from(listed.key, 'base64')), description: 'local' });
    const head = await client.getSth();
    assert.equal(head.treeSize, 2);
    const hash = new Uint8Array(Buffer.from((precert.v1 as { hash: string }).hash, 'base64'));
    const proof = await client.getProofByHash(hash, head.treeSize);
    assert.ok(verifyInclusion(proof.leafIndex, head.treeSize, hash, proof.auditPath, head.rootHash));
    const entry = await client.getEntry(proof.leafIndex);
    assert.deepEqual(hashLeaf(entry.leafInput), hash);
    assert.equal(parseMerkleTreeLeaf(entry.leafInput).entryType, 'precert');

    // Refusals: a chain to another root, a precertificate on add-chain, garbage.
    const stranger = await createLocalCa({ name: 'Stranger CA' });
    const foreign = await issueCertificate(stranger, { dnsNames: ['x.example'] });
    await assert.rejects(submitChain(url, [foreign, stranger.certificate]), { code: 'CT_SUBMISSION_REJECTED' });
    await assert.rejects(submitChain(url, [cert, ca.certificate], { precertificate: true }), { code: 'CT_SUBMISSION_REJECTED' });
    assert.equal((await json(`${url}ct/v1/add-chain`, { method: 'POST', body: '{"chain":"nope"}' })).status, 400);
    assert.equal((await json(`${url}ct/v1/get-proof-by-hash?hash=${encodeURIComponent(Buffer.alloc(32).toString('base64'))}&tree_size=2`)).status, 404);
    assert.equal((await json(`${url}ct/v1/get-entries?start=5&end=1`)).status, 400);
    assert.equal((await json(`${url}tile/0/x000/000`)).status, 404);

    // Restart from the state directory: same key, same tree, and it keeps growing consistently.
    assert.equal(await server.stop(), 0);
    server = await serve(['--listen', '127.0.0.1:0', '--roots', roots, '--state', state]);
    assert.equal(server.ready.logId, logId);
    const url2 = server.ready.url;
    const client2 = new Rfc6962Client({ url: url2, key: new Uint8Array(Buffer.from(listed.key, 'base64')), description: 'restarted' });
    const again = await client2.getSth();
    assert.equal(again.treeSize, 2);
    assert.deepEqual(again.rootHash, head.rootHash);
    await issueLoggedCertificate(ca, url2, { dnsNames: ['c.example'] });
    const grown = await client2.getSth();
    assert.ok(verifyConsistency(2, 3, head.rootHash, grown.rootHash, await client2.getConsistency(2, 3)));
    const outcome = await checkerFor([server.ready.logListUrl]).check(request('b.example', 'x', [precert.v1, precert.static]));
    // The names do not bind kid "x", but both entries were found and proven.
    assert.deepEqual(outcome.errors.map((e) => e.code), ['CT_BINDING_NAME_MISSING', 'CT_BINDING_NAME_MISSING']);
  } finally {
    await server.stop();
    dir.remove();
  }
});

test('static-ct tiles: full and partial tiles, higher tile levels, gzip, partial-tile fallback', async () => {
  const { ca, log } = await startCaAndLog();
  try {
    // 300 entries: data tile 0 is full, tile 1 is partial (44), and the level-1 hash tile exists (width 1).
    const certs = await Promise.all(Array.from({ length: 300 }, (_, i) => issueCertificate(ca, { dnsNames: [`n${i}.example`] })));
    const scts = await Promise.all(certs.map((c) => submitChain(log.url, [c, ca.certificate])));
    const indices = scts.map((s) => leafIndexFromExtensions(s.extensions)!);
    assert.deepEqual([...indices].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i));

    const fetched: string[] = [];
    const recording: HttpClient = async (url, req) => {
      fetched.push(url.slice(log.url.length));
      return fetchHttp(url, req);
    };
    const endpoint = { monitoringUrl: log.url, submissionUrl: log.url, logId: log.log.logId, key: log.log.publicKeyDer, description: 'local' };
    const client = new StaticCtClient(endpoint, recording);
    const head = await client.getCheckpoint();
    assert.equal(head.treeSize, 300);
    for (const index of [0, 5, 255, 256, 299]) {
      const { leaf } = await client.provenEntry(index, head);
      assert.equal(leafIndexFromExtensions(leaf.entry.extensions), index);
    }
    assert.ok(fetched.includes('tile/data/000'));
    assert.ok(fetched.includes('tile/data/001.p/44'));
    assert.ok(fetched.includes('tile/1/000.p/1'));
    assert.ok(fetched.includes('tile/0/001.p/44'));

    // Tiles stored gzip-compressed and served without Content-Encoding are inflated.
    const gzipping: HttpClient = async (url, req) => {
      const res = await fetchHttp(url, req);
      return url.includes('/tile/') ? { ...res, body: new Uint8Array(gzipSync(res.body)) } : res;
    };
    const gz = new StaticCtClient(endpoint, gzipping);
    assert.equal(leafIndexFromExtensions((await gz.provenEntry(290, await gz.getCheckpoint())).leaf.entry.extensions), 290);

    // A partial tile that is gone (the tree grew): the full tile is fetched and its prefix used.
    const grownTiles: HttpClient = async (url, req) => {
      const m = /^(.*)\.p\/(\d+)$/.exec(url);
      if (m) return { status: 404, body: new Uint8Array(0), contentType: null, cacheControl: null };
      const partial = /tile\/0\/001$/.test(url) ? `${url}.p/44` : /tile\/1\/000$/.test(url) ? `${url}.p/1` : /tile\/data\/001$/.test(url) ? `${url}.p/44` : null;
      if (!partial) return fetchHttp(url, req);
      const res = await fetchHttp(partial, req);
      if (url.includes('/data/')) return res; // extra entries would follow; the first W are used
      const padded = new Uint8Array(256 * 32);
      padded.set(res.body);
      return { ...res, body: padded };
    };
    const fallback = new StaticCtClient(endpoint, grownTiles);
    assert.equal(leafIndexFromExtensions((await fallback.provenEntry(299, head)).leaf.entry.extensions), 299);

    // Consistency through tiles between two sizes of the same tree.
    const proof = await client.consistencyProof(100, 300);
    assert.ok(verifyConsistency(100, 300, log.log.tree.root(100), head.rootHash, proof));
  } finally {
    await log.close();
  }
});

test('submissions arriving together are sequenced in one batch, each answered with its own index', async () => {
  const ca = await createLocalCa();
  const log = await startLocalCtLog({ roots: [ca.certificate] });
  try {
    const certs = await Promise.all([1, 2, 3].map((i) => issueCertificate(ca, { dnsNames: [`s${i}.example`] })));
    const scts = await Promise.all(certs.map((c) => submitChain(log.url, [c, ca.certificate])));
    assert.deepEqual(scts.map((s) => leafIndexFromExtensions(s.extensions)).sort(), [0, 1, 2]);
    assert.equal(log.log.treeHead.treeSize, 3);
  } finally {
    await log.close();
  }
});
