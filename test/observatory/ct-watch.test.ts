import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { createLocalCa, issueBindingCertificate, issueLoggedCertificate, type LocalCa } from '../../src/ct/local-ca.js';
import { startLocalCtLog, type RunningLocalCtLog } from '../../src/ct/local-log/start-local-ct-log.js';
import { ctWatchRound, watchedOrganization } from '../../src/observatory/ct-watch.js';
import { MemoryStore } from './fakes.js';
import { T0 } from './world.js';

describe('CT watch on the local CT log', () => {
  let ca: LocalCa;
  let log: RunningLocalCtLog;
  let key: string;

  before(async () => {
    ca = await createLocalCa();
    log = await startLocalCtLog({ roots: [ca.certificate], batchMs: 10 });
    const list = (await (await fetch(log.logListUrl)).json()) as { operators: Array<{ logs: Array<{ key: string }> }> };
    key = list.operators[0]!.logs[0]!.key;
  });
  after(async () => {
    await log?.close();
  });

  it('matches adem-configuration names of watched organisations only', () => {
    assert.equal(watchedOrganization('adem-configuration.org.example', ['org.example']), 'org.example');
    assert.equal(watchedOrganization('KID.adem-configuration.org.example.', ['org.example']), 'org.example');
    assert.equal(watchedOrganization('adem-configuration.other.example', ['org.example']), null);
    assert.equal(watchedOrganization('xadem-configuration.org.example', ['org.example']), null);
  });

  it('raises CT_UNEXPECTED_CERTIFICATE for an unknown certificate naming a watched organisation, not for known or unrelated ones; resumes from its cursor', async () => {
    const store = new MemoryStore();
    const known = await issueBindingCertificate(ca, log.url, { host: 'org.example', kid: 'kidone', precertificate: false });
    await issueLoggedCertificate(ca, log.url, { dnsNames: ['www.unrelated.example'], precertificate: false });
    const knownFp = createHash('sha256').update(known.chain[0]!).digest('hex');
    const config = { organizations: [{ name: 'org.example', known: [knownFp] }], logs: [{ url: log.url, kind: 'rfc6962' as const, publicKey: key }] };
    await new Promise((r) => setTimeout(r, 100)); // the log sequences in batches
    assert.deepEqual(await ctWatchRound({ config, store }, T0), [], 'a known certificate and an unrelated one raise nothing');
    const cursor = JSON.parse((await store.getCursor(`ct:${log.url}`))!) as { treeSize: number; next: number };
    assert.equal(cursor.next, cursor.treeSize);

    await issueBindingCertificate(ca, log.url, { host: 'org.example', kid: 'rogue' });
    await new Promise((r) => setTimeout(r, 100));
    const events = await ctWatchRound({ config, store }, T0);
    assert.deepEqual(events.map((e) => [e.type, e.target, e.severity]), [['CT_UNEXPECTED_CERTIFICATE', 'org.example', 'critical']]);
    assert.match(events[0]!.detail, /rogue\.adem-configuration\.org\.example/);
    assert.deepEqual(await ctWatchRound({ config, store }, T0), [], 'each entry is looked at once');
  });

  it('raises CT_LOG_INCONSISTENT when the log cannot prove consistency with the verified head', async () => {
    const store = new MemoryStore();
    const config = { organizations: [{ name: 'org.example', known: [] }], logs: [{ url: log.url, kind: 'rfc6962' as const, publicKey: key }] };
    await ctWatchRound({ config, store }, T0);
    const cursor = JSON.parse((await store.getCursor(`ct:${log.url}`))!) as { treeSize: number; rootHash: string; next: number };
    // A verified head the log never had (same size, other root): what a forked view looks like from here.
    await store.setCursor(`ct:${log.url}`, JSON.stringify({ ...cursor, rootHash: Buffer.alloc(32, 7).toString('base64') }));
    const events = await ctWatchRound({ config, store }, T0);
    assert.deepEqual(events.map((e) => [e.type, e.target]), [['CT_LOG_INCONSISTENT', log.url]]);
  });
});
