import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { createLocalCa, issueBindingCertificate, issueLoggedCertificate, type LocalCa } from '../../src/ct/local-ca.js';
import { startLocalCtLog, type RunningLocalCtLog } from '../../src/ct/local-log/start-local-ct-log.js';
import { fetchHttp, type HttpClient } from '../../src/ct/http.js';
import { maybeGunzip } from '../../src/ct/gunzip-node.js';
import { loadLogLists } from '../../src/ct/log-list-source.js';
import { encodeMerkleTreeLeaf, parseMerkleTreeLeaf, type TimestampedEntry } from '../../src/ct/merkle-tree-leaf.js';
import { encodeTileLeaf, parseDataTile } from '../../src/ct/tile-leaf.js';
import { ctWatchRound, watchedOrganization, type CtWatchOptions } from '../../src/observatory/ct-watch.js';
import { MemoryStore } from './fakes.js';
import { T0 } from './world.js';

describe('CT watch on the local CT log', () => {
  let ca: LocalCa;
  let log: RunningLocalCtLog;
  let key: string;

  let other: RunningLocalCtLog;
  /** A binding certificate for a watched organisation, logged only in the other log (what a lying log would slip in). */
  let rogue: TimestampedEntry;

  before(async () => {
    ca = await createLocalCa();
    log = await startLocalCtLog({ roots: [ca.certificate], batchMs: 10 });
    other = await startLocalCtLog({ roots: [ca.certificate], batchMs: 10 });
    const list = (await (await fetch(log.logListUrl)).json()) as { operators: Array<{ logs: Array<{ key: string }> }> };
    key = list.operators[0]!.logs[0]!.key;
    await issueBindingCertificate(ca, other.url, { host: 'org.example', kid: 'slipped', precertificate: false });
    await new Promise((r) => setTimeout(r, 100));
    const got = (await (await fetch(`${other.url}ct/v1/get-entries?start=0&end=0`)).json()) as { entries: Array<{ leaf_input: string }> };
    rogue = parseMerkleTreeLeaf(Buffer.from(got.entries[0]!.leaf_input, 'base64'));
  });
  after(async () => {
    await log?.close();
    await other?.close();
  });

  it('matches adem-configuration names of watched organisations only', () => {
    assert.equal(watchedOrganization('adem-configuration.org.example', ['org.example']), 'org.example');
    assert.equal(watchedOrganization('KID.adem-configuration.org.example.', ['org.example']), 'org.example');
    assert.equal(watchedOrganization('adem-configuration.other.example', ['org.example']), null);
    assert.equal(watchedOrganization('xadem-configuration.org.example', ['org.example']), null);
  });

  for (const kind of ['rfc6962', 'static'] as const) {
  const cursorKey = () => (kind === 'rfc6962' ? `ct:${log.url}` : `ct:static:${log.url}`);
  it(`${kind}: raises CT_UNEXPECTED_CERTIFICATE for an unknown certificate naming a watched organisation, not for known or unrelated ones; resumes from its cursor`, async () => {
    const store = new MemoryStore();
    // Start after what earlier tests logged (the log is shared): a round watching nobody moves the cursor to the end.
    await ctWatchRound({ config: { organizations: [{ name: 'nobody.example', known: [] }], logs: [{ url: log.url, kind, publicKey: key }] }, store }, T0);
    const known = await issueBindingCertificate(ca, log.url, { host: 'org.example', kid: 'kidone', precertificate: false });
    await issueLoggedCertificate(ca, log.url, { dnsNames: ['www.unrelated.example'], precertificate: false });
    const knownFp = createHash('sha256').update(known.chain[0]!).digest('hex');
    const config = { organizations: [{ name: 'org.example', known: [knownFp] }], logs: [{ url: log.url, kind, publicKey: key }] };
    await new Promise((r) => setTimeout(r, 100)); // the log sequences in batches
    assert.deepEqual(await ctWatchRound({ config, store }, T0), [], 'a known certificate and an unrelated one raise nothing');
    const cursor = JSON.parse((await store.getCursor(cursorKey()))!) as { treeSize: number; next: number };
    assert.equal(cursor.next, cursor.treeSize);

    await issueBindingCertificate(ca, log.url, { host: 'org.example', kid: 'rogue' });
    await new Promise((r) => setTimeout(r, 100));
    const events = await ctWatchRound({ config, store }, T0);
    assert.deepEqual(events.map((e) => [e.type, e.target, e.severity]), [['CT_UNEXPECTED_CERTIFICATE', 'org.example', 'critical']]);
    assert.match(events[0]!.detail, /rogue\.adem-configuration\.org\.example/);
    assert.deepEqual(await ctWatchRound({ config, store }, T0), [], 'each entry is looked at once');
  });

  it(`${kind}: raises CT_LOG_INCONSISTENT when the log cannot prove consistency with the verified head`, async () => {
    const store = new MemoryStore();
    const config = { organizations: [{ name: 'org.example', known: [] }], logs: [{ url: log.url, kind, publicKey: key }] };
    await ctWatchRound({ config, store }, T0);
    const cursor = JSON.parse((await store.getCursor(cursorKey()))!) as { treeSize: number; rootHash: string; next: number };
    // A verified head the log never had (same size, other root): what a forked view looks like from here.
    await store.setCursor(cursorKey(), JSON.stringify({ ...cursor, rootHash: Buffer.alloc(32, 7).toString('base64') }));
    let events = await ctWatchRound({ config, store }, T0);
    assert.deepEqual(events.map((e) => [e.type, e.target]), [['CT_LOG_INCONSISTENT', log.url]]);
    // A smaller verified head the new one does not extend (consistency proof fails against its root).
    await store.setCursor(cursorKey(), JSON.stringify({ treeSize: 1, rootHash: Buffer.alloc(32, 7).toString('base64'), next: 1 }));
    events = await ctWatchRound({ config, store }, T0);
    assert.deepEqual(events.map((e) => [e.type, e.target]), [['CT_LOG_INCONSISTENT', log.url]]);
  });

  it(`${kind}: a log that serves an entry not in its verified tree raises CT_LOG_INCONSISTENT with a code, the entry is not accepted, the cursor stays`, async () => {
    const store = new MemoryStore();
    const config = { organizations: [{ name: 'org.example', known: [] }], logs: [{ url: log.url, kind, publicKey: key }] };
    await ctWatchRound({ config, store }, T0);
    await issueLoggedCertificate(ca, log.url, { dnsNames: [`www${kind}.unrelated.example`], precertificate: false });
    await new Promise((r) => setTimeout(r, 100));
    const before = JSON.parse((await store.getCursor(cursorKey()))!) as { next: number };
    // The log now serves a rogue certificate for a watched name at the new index instead of what it logged.
    const lying = lyingHttp(rogue, before.next);
    const events = await ctWatchRound({ config, store, http: lying.http }, T0);
    assert.ok(lying.tampered() > 0, 'the lie was served');
    assert.deepEqual(events.map((e) => [e.type, e.target]), [['CT_LOG_INCONSISTENT', log.url]], 'no CT_UNEXPECTED_CERTIFICATE from an unproven entry');
    assert.match(events[0]!.detail, new RegExp(`entry ${before.next} is not in the verified tree .*\\[(CT_LEAF_NOT_FOUND|CT_AUDIT_PATH_INVALID|CT_TILE_MISMATCH)\\]`));
    assert.equal((JSON.parse((await store.getCursor(cursorKey()))!) as { next: number }).next, before.next, 'the cursor stays before the unproven entry');
    // The honest log again: the real entry is read and the cursor moves on.
    assert.deepEqual(await ctWatchRound({ config, store }, T0), []);
    assert.equal((JSON.parse((await store.getCursor(cursorKey()))!) as { next: number }).next, before.next + 1);
  });
  }

  it('follows the log list entries as their kind says (RFC 6962 and tiled), each proving entries', async () => {
    const store = new MemoryStore();
    const listed = (await loadLogLists([log.logListUrl], { cacheDir: null })).logs;
    assert.deepEqual(listed.map((l) => l.kind).sort(), ['rfc6962', 'tiled']);
    const config = { organizations: [{ name: 'org.example', known: [] }], logs: [] };
    const seen: Array<Record<string, unknown>> = [];
    const events = await ctWatchRound({ config, store, listed, log: (l) => seen.push(l) } satisfies CtWatchOptions, T0);
    // Both views of the same log see every binding certificate for org.example (none is known here).
    const byLog = (prefix: string) => events.filter((e) => e.type === 'CT_UNEXPECTED_CERTIFICATE' && e.detail.startsWith(prefix)).length;
    assert.ok(byLog(log.url) > 0);
    assert.ok(seen.some((l) => l.event === 'ct-watch') && !seen.some((l) => l.event === 'ct-watch-failed'), JSON.stringify(seen));
    assert.ok(await store.getCursor(`ct:${log.url}`));
    assert.ok(await store.getCursor(`ct:static:${log.url}`));
  });

  /** The local log, except that entry `index` is `entry` (in get-entries answers and in data tiles). */
  function lyingHttp(entry: TimestampedEntry, index: number): { http: HttpClient; tampered: () => number } {
    let tampered = 0;
    const http: HttpClient = async (url, request) => {
      const res = await fetchHttp(url, request);
      if (res.status !== 200) return res;
      if (url.endsWith(`get-entries?start=${index}&end=${index}`)) {
        const json = JSON.parse(Buffer.from(res.body).toString('utf8')) as { entries: Array<{ leaf_input: string }> };
        json.entries[0]!.leaf_input = Buffer.from(encodeMerkleTreeLeaf(entry)).toString('base64');
        tampered++;
        return { ...res, body: Buffer.from(JSON.stringify(json)) };
      }
      const m = /tile\/data\/(\d{3})(?:\.p\/(\d+))?$/.exec(url);
      if (m && Number(m[1]) === Math.floor(index / 256)) {
        const width = m[2] ? Number(m[2]) : 256;
        const leaves = parseDataTile(maybeGunzip(res.body, 1 << 24, 'data tile'), width);
        leaves[index % 256] = { ...leaves[index % 256]!, entry: { ...entry, extensions: leaves[index % 256]!.entry.extensions } };
        tampered++;
        return { ...res, body: Buffer.concat(leaves.map((l) => encodeTileLeaf(l))) };
      }
      return res;
    };
    return { http, tampered: () => tampered };
  }
});
