/**
 * Acceptance 4: each way a commitment can be false or a log can lie makes the check fail with its own code.
 * Everything runs against the local CT log on loopback, with a tampering proxy playing the hostile log.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { bindingNames, issueBindingCertificate, issueLoggedCertificate, type LoggedCertificate } from '../../src/ct/local-ca.js';
import { startLocalCtLog, type RunningLocalCtLog } from '../../src/ct/local-log/start-local-ct-log.js';
import { TreeHeadStore } from '../../src/ct/tree-head-store.js';
import type { LogEntryJson } from '../../src/ct/leaf-hash.js';
import { checkerFor, editJson, flipBase64, request, startCaAndLog, startTamperingProxy, tempDir, type CaAndLog, type TamperingProxy } from './fixtures.js';

const HOST = 'hospital.example';
const KID = 'n5e6i7nfwq3k2ymzttu7ynlu3ouhb2dmazwxhsjvchd6zwd5wfha';

let env: CaAndLog;
let proxy: TamperingProxy;
let bound: LoggedCertificate;
let state: ReturnType<typeof tempDir>;

before(async () => {
  state = tempDir();
  env = await startCaAndLog({ dir: join(state.path, 'log') });
  // A few entries so audit paths are not empty; the binding certificate is the second one.
  await issueLoggedCertificate(env.ca, env.log.url, { dnsNames: ['filler.example'] });
  bound = await issueBindingCertificate(env.ca, env.log.url, { host: HOST, kid: KID });
  await issueLoggedCertificate(env.ca, env.log.url, { dnsNames: ['filler2.example'], precertificate: false });
  proxy = await startTamperingProxy(env.log.url);
});

after(async () => {
  await proxy.close();
  await env.log.close();
  state.remove();
});

async function codesOf(sources: string[], logs: LogEntryJson[], extra = {}) {
  const outcome = await checkerFor(sources, extra).check(request(HOST, KID, logs));
  return { status: outcome.status, codes: outcome.errors.map((e) => e.code) };
}

test('baseline: the binding certificate verifies through the log and through the (honest) proxy, v1 and static', async () => {
  for (const list of [env.log.logListUrl, proxy.logListUrl]) {
    assert.deepEqual(await codesOf([list], [bound.v1, bound.static]), { status: 'verified', codes: [] });
  }
});

test('a log hash that is not in the log: CT_LEAF_NOT_FOUND', async () => {
  const missing = { ...bound.v1, hash: randomBytes(32).toString('base64') } as LogEntryJson;
  assert.deepEqual(await codesOf([env.log.logListUrl], [missing]), { status: 'failed', codes: ['CT_LEAF_NOT_FOUND'] });
  const beyond = { ...bound.static, index: 10_000 } as LogEntryJson;
  assert.deepEqual(await codesOf([env.log.logListUrl], [beyond]), { status: 'failed', codes: ['CT_LEAF_NOT_FOUND'] });
});

test('a wrong audit path: CT_AUDIT_PATH_INVALID', async () => {
  proxy.tamper = (path, body) =>
    path === 'ct/v1/get-proof-by-hash' ? editJson(body, (j) => ((j.audit_path as string[])[0] = flipBase64((j.audit_path as string[])[0]!))) : body;
  try {
    assert.deepEqual(await codesOf([proxy.logListUrl], [bound.v1]), { status: 'failed', codes: ['CT_AUDIT_PATH_INVALID'] });
  } finally {
    proxy.tamper = null;
  }
});

test('a tree head with a bad signature: CT_STH_SIGNATURE_INVALID', async () => {
  proxy.tamper = (path, body) =>
    path === 'ct/v1/get-sth' ? editJson(body, (j) => (j.tree_head_signature = flipBase64(j.tree_head_signature as string))) : body;
  try {
    assert.deepEqual(await codesOf([proxy.logListUrl], [bound.v1]), { status: 'failed', codes: ['CT_STH_SIGNATURE_INVALID'] });
  } finally {
    proxy.tamper = null;
  }
  // A validly signed head of another size is also caught: the signature covers the size.
  proxy.tamper = (path, body) => (path === 'ct/v1/get-sth' ? editJson(body, (j) => (j.tree_size = (j.tree_size as number) + 1)) : body);
  try {
    assert.deepEqual(await codesOf([proxy.logListUrl], [bound.v1]), { status: 'failed', codes: ['CT_STH_SIGNATURE_INVALID'] });
  } finally {
    proxy.tamper = null;
  }
});

test('a log absent from the log list: CT_LOG_UNKNOWN', async () => {
  const other = await startLocalCtLog({ roots: [env.ca.certificate] });
  try {
    assert.deepEqual(await codesOf([other.logListUrl], [bound.v1, bound.static]), { status: 'failed', codes: ['CT_LOG_UNKNOWN', 'CT_LOG_UNKNOWN'] });
    // Same through a list file (and a file listing the log only as RFC 6962 cannot vouch for a static entry).
    const list = await (await fetch(env.log.logListUrl)).json();
    list.operators[0].tiled_logs = [];
    const file = join(state.path, 'rfc6962-only.json');
    writeFileSync(file, JSON.stringify(list));
    assert.deepEqual(await codesOf([file], [bound.static]), { status: 'failed', codes: ['CT_LOG_UNKNOWN'] });
    assert.deepEqual(await codesOf([file], [bound.v1]), { status: 'verified', codes: [] });
  } finally {
    await other.close();
  }
});

test('a certificate whose SANs lack the kid name: CT_BINDING_NAME_MISSING', async () => {
  const names = bindingNames(HOST, KID).filter((n) => !n.startsWith(KID));
  const unbound = await issueLoggedCertificate(env.ca, env.log.url, { dnsNames: [...names, `*.adem-configuration.${HOST}`] });
  assert.deepEqual(await codesOf([env.log.logListUrl], [unbound.v1]), { status: 'failed', codes: ['CT_BINDING_NAME_MISSING'] });
  assert.deepEqual(await codesOf([env.log.logListUrl], [unbound.static]), { status: 'failed', codes: ['CT_BINDING_NAME_MISSING'] });
  // And a correct certificate does not commit another key.
  const outcome = await checkerFor([env.log.logListUrl]).check(request(HOST, 'a'.repeat(52), [bound.v1]));
  assert.deepEqual(outcome.errors.map((e) => e.code), ['CT_BINDING_NAME_MISSING']);
});

test('a checkpoint with a bad note signature: CT_CHECKPOINT_SIGNATURE_INVALID', async () => {
  proxy.tamper = (path, body) => {
    if (path !== 'checkpoint') return body;
    const text = body.toString('utf8');
    const sig = /— (\S+) (\S+)\n$/.exec(text)!;
    return Buffer.from(text.replace(sig[2]!, flipBase64(sig[2]!)));
  };
  try {
    assert.deepEqual(await codesOf([proxy.logListUrl], [bound.static]), { status: 'failed', codes: ['CT_CHECKPOINT_SIGNATURE_INVALID'] });
  } finally {
    proxy.tamper = null;
  }
});

test('a data tile that does not match the hash tiles: CT_TILE_MISMATCH', async () => {
  proxy.tamper = (path, body) => {
    if (!path.startsWith('tile/data/')) return body;
    const copy = Buffer.from(body);
    // Change a byte inside the binding certificate's entry (the second one): its hash no longer matches tile 0.
    const at = copy.indexOf(Buffer.from(`${KID}.adem-configuration`));
    copy[at] = 'x'.charCodeAt(0);
    return copy;
  };
  try {
    assert.deepEqual(await codesOf([proxy.logListUrl], [bound.static]), { status: 'failed', codes: ['CT_TILE_MISMATCH'] });
  } finally {
    proxy.tamper = null;
  }
  // A hash tile that lies is caught by the audit path through the tiles.
  proxy.tamper = (path, body) => {
    if (!path.startsWith('tile/0/')) return body;
    const copy = Buffer.from(body);
    copy[0]! ^= 1; // leaf 0's hash: a sibling on the binding entry's path
    return copy;
  };
  try {
    assert.deepEqual(await codesOf([proxy.logListUrl], [bound.static]), { status: 'failed', codes: ['CT_AUDIT_PATH_INVALID'] });
  } finally {
    proxy.tamper = null;
  }
});

test('a log that presents two inconsistent tree heads (a fork): CT_LOG_INCONSISTENT, for RFC 6962 and static views', async () => {
  // Fork the log: a copy of its state (same key, same entries so far) that then grows differently.
  const forkDir = join(state.path, 'fork');
  cpSync(join(state.path, 'log'), forkDir, { recursive: true });
  // It claims the original's URL, so even its checkpoints carry the right origin.
  const fork = await startLocalCtLog({ roots: [env.ca.certificate], dir: forkDir, batchMs: 20, publicUrl: env.log.url });
  const forkProxy = await startTamperingProxy(env.log.url);
  try {
    assert.equal(fork.logId, env.log.logId, 'the fork signs with the same key');
    await issueLoggedCertificate(env.ca, env.log.url, { dnsNames: ['only-in-original.example'] });
    const forkAddress = fork.address;
    await issueLoggedCertificate(env.ca, forkAddress, { dnsNames: ['only-in-fork-1.example'] });
    await issueLoggedCertificate(env.ca, forkAddress, { dnsNames: ['only-in-fork-2.example'] });
    for (const entry of [bound.v1, bound.static]) {
      forkProxy.upstream = env.log.url;
      const treeHeads = new TreeHeadStore();
      assert.deepEqual(await codesOf([forkProxy.logListUrl], [entry], { treeHeads }), { status: 'verified', codes: [] });
      // Same URL, same key, another history: a client that remembers what it saw notices.
      forkProxy.upstream = forkAddress;
      assert.deepEqual(await codesOf([forkProxy.logListUrl], [entry], { treeHeads }), { status: 'failed', codes: ['CT_LOG_INCONSISTENT'] });
    }
    // The honest log, seen twice while it grows, stays consistent.
    const treeHeads = new TreeHeadStore(join(state.path, 'heads.json'));
    forkProxy.upstream = env.log.url;
    assert.equal((await codesOf([forkProxy.logListUrl], [bound.v1], { treeHeads })).status, 'verified');
    await issueLoggedCertificate(env.ca, env.log.url, { dnsNames: ['growth.example'] });
    const reloaded = new TreeHeadStore(join(state.path, 'heads.json'));
    assert.equal((await codesOf([forkProxy.logListUrl], [bound.v1, bound.static], { treeHeads: reloaded })).status, 'verified');
  } finally {
    await forkProxy.close();
    await fork.close();
  }
});

test('an entry that does not hash to the requested leaf hash: CT_ENTRY_MISMATCH', async () => {
  proxy.tamper = (path, body) =>
    path === 'ct/v1/get-entries'
      ? editJson(body, (j) => {
          const e = (j.entries as Array<Record<string, string>>)[0]!;
          const leaf = Buffer.from(e.leaf_input!, 'base64');
          leaf[leaf.length - 10]! ^= 1;
          e.leaf_input = leaf.toString('base64');
        })
      : body;
  try {
    assert.deepEqual(await codesOf([proxy.logListUrl], [bound.v1]), { status: 'failed', codes: ['CT_ENTRY_MISMATCH'] });
  } finally {
    proxy.tamper = null;
  }
});

test('hostile sizes: oversized answers and endless audit paths are refused, not buffered (unusable answers: could not check, not proven false)', async () => {
  proxy.tamper = (path, body) => (path === 'ct/v1/get-sth' ? Buffer.alloc(200_000, 0x20) : body);
  try {
    assert.deepEqual(await codesOf([proxy.logListUrl], [bound.v1]), { status: 'unavailable', codes: ['CT_LOG_UNREACHABLE'] });
  } finally {
    proxy.tamper = null;
  }
  proxy.tamper = (path, body) =>
    path === 'ct/v1/get-proof-by-hash' ? editJson(body, (j) => (j.audit_path = Array(1000).fill(Buffer.alloc(32).toString('base64')))) : body;
  try {
    assert.deepEqual(await codesOf([proxy.logListUrl], [bound.v1]), { status: 'unavailable', codes: ['CT_RESPONSE_MALFORMED'] });
  } finally {
    proxy.tamper = null;
  }
});

test('policy: "all" fails when one entry fails, "any" passes with one verified entry', async () => {
  const missing = { ...bound.v1, hash: randomBytes(32).toString('base64') } as LogEntryJson;
  assert.equal((await codesOf([env.log.logListUrl], [bound.v1, missing])).status, 'failed');
  assert.equal((await codesOf([env.log.logListUrl], [bound.v1, missing], { policy: 'any' })).status, 'verified');
  assert.equal((await codesOf([env.log.logListUrl], [missing], { policy: 'any' })).status, 'failed');
});

test('retired logs are reported per entry: CT_LOG_NOT_USABLE', async () => {
  const list = await (await fetch(env.log.logListUrl)).json();
  list.operators[0].logs[0].state = { retired: { timestamp: '2026-01-01T00:00:00Z' } };
  const file = join(state.path, 'retired.json');
  writeFileSync(file, JSON.stringify(list));
  assert.deepEqual(await codesOf([file], [bound.v1, bound.static]), { status: 'failed', codes: ['CT_LOG_NOT_USABLE'] });
});

test('concurrent checks of one entry share one proof; a warm checker asks the log nothing', async () => {
  let requests = 0;
  const counting = async (url: string, req: Parameters<typeof import('../../src/ct/http.js').fetchHttp>[1]) => {
    if (!url.endsWith('log_list.json')) requests++;
    return (await import('../../src/ct/http.js')).fetchHttp(url, req);
  };
  const checker = checkerFor([env.log.logListUrl], { http: counting });
  const outcomes = await Promise.all(Array.from({ length: 20 }, () => checker.check(request(HOST, KID, [bound.v1, bound.static]))));
  assert.ok(outcomes.every((o) => o.status === 'verified'));
  const cold = requests;
  // RFC 6962: get-sth, get-proof-by-hash, get-entries; static: checkpoint plus a few tiles. Not 20 times that.
  assert.ok(cold <= 12, `${cold} requests`);
  await checker.check(request(HOST, KID, [bound.v1, bound.static]));
  assert.equal(requests, cold);
});

test('an entry logged after the cached tree head was fetched is still found (one refresh of the head)', async () => {
  const checker = checkerFor([env.log.logListUrl]);
  assert.equal((await checker.check(request(HOST, KID, [bound.v1]))).status, 'verified');
  const later = await issueBindingCertificate(env.ca, env.log.url, { host: HOST, kid: KID });
  for (const entry of [later.v1, later.static]) {
    const outcome = await checker.check(request(HOST, KID, [entry]));
    assert.equal(outcome.status, 'verified', JSON.stringify(outcome.errors));
  }
});
