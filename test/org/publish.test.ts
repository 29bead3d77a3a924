import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { EmblemError } from '../../src/core/errors.js';
import type { DnsRecord, PublishingChannel } from '../../src/org/channels/channel.js';
import { recordKey } from '../../src/org/channels/channel.js';
import { describeFailure, inverseChange, publishAllOrNone } from '../../src/org/publish.js';

const rec = (name: string, text: string): DnsRecord => ({ name, type: 16, ttl: 60, rdata: Buffer.concat([Buffer.from([text.length]), Buffer.from(text)]) });

/** An in-memory channel; `failOn` makes its apply throw (after changing nothing). */
function memoryChannel(id: string, initial: DnsRecord[], failOn: (c: { add: DnsRecord[]; remove: DnsRecord[] }) => boolean = () => false) {
  const records = new Map(initial.map((r) => [recordKey(r), r]));
  const calls: string[] = [];
  const ch: PublishingChannel & { calls: string[]; keys(): string[] } = {
    id,
    zone: 'hospital.example',
    calls,
    keys: () => [...records.keys()].sort(),
    read: async () => [...records.values()],
    apply: async (c) => {
      calls.push(`+${c.add.length}-${c.remove.length}`);
      if (failOn(c)) throw new EmblemError('TSIG_BADSIG', '127.0.0.1:5301 rejected the TSIG signature (BADSIG)');
      for (const r of c.remove) records.delete(recordKey(r));
      for (const r of c.add) records.set(recordKey(r), r);
    },
    authoritativeServers: () => [],
  };
  return ch;
}

test('inverseChange undoes only what the change really did', () => {
  const g1 = rec('clinic.hospital.example', 'adem-token-g1=a');
  const g2 = rec('clinic.hospital.example', 'adem-token-g2=b');
  const gone = rec('clinic.hospital.example', 'adem-token-g0=c');
  // g1 was already there (re-added), g2 is new; gone was removed, and a record never there is "removed" too.
  const undo = inverseChange({ add: [g1, g2], remove: [gone, rec('x.hospital.example', 'adem-token-g9=z')] }, [g1, gone]);
  assert.deepEqual(undo.remove.map(recordKey), [recordKey(g2)]);
  assert.deepEqual(undo.add.map(recordKey), [recordKey(gone)]);
});

test('publishAllOrNone: a failing channel rolls back the channels changed before it, last first; later ones are not touched', async () => {
  const g1 = rec('clinic.hospital.example', 'adem-token-g1=a');
  const g2 = rec('clinic.hospital.example', 'adem-token-g2=b');
  const a = memoryChannel('rfc2136://127.0.0.1:5300/hospital.example', [g1]);
  const b = memoryChannel('zonefile:/z', [g1]);
  const bad = memoryChannel('rfc2136://127.0.0.1:5301/hospital.example', [g1], (c) => c.add.length > 0);
  const after = memoryChannel('octodns:/o', [g1]);
  const before = new Map([a, b, bad, after].map((c) => [c.id, [g1]]));
  const snapshot = [a, b, bad, after].map((c) => c.keys());
  const failure = await publishAllOrNone([a, b, bad, after].map((channel) => ({ channel, add: [g2], remove: [] })), before);
  assert.ok(failure);
  assert.equal(failure.channel, bad.id);
  assert.equal(failure.error.code, 'TSIG_BADSIG');
  assert.deepEqual(failure.rolledBack, [b.id, a.id], 'last changed, first rolled back');
  assert.deepEqual([a, b, bad, after].map((c) => c.keys()), snapshot, 'every channel holds what it held before');
  assert.deepEqual(after.calls, [], 'channels after the failing one are not changed');
  assert.deepEqual(a.calls, ['+1-0', '+0-1']);
  const line = describeFailure(failure);
  assert.match(line, /^rfc2136:\/\/127\.0\.0\.1:5301\/hospital\.example: TSIG_BADSIG: 127\.0\.0\.1:5301 rejected/);
  assert.match(line, /rolled back on zonefile:\/z, rfc2136:\/\/127\.0\.0\.1:5300\/hospital\.example/);
});

test('publishAllOrNone: a rollback that fails is reported as CHANNEL_ROLLBACK_FAILED naming the channel; success changes all', async () => {
  const g1 = rec('clinic.hospital.example', 'adem-token-g1=a');
  const g2 = rec('clinic.hospital.example', 'adem-token-g2=b');
  const sticky = memoryChannel('rfc2136://127.0.0.1:5300/hospital.example', [g1], (c) => c.remove.length > 0);
  const bad = memoryChannel('rfc2136://127.0.0.1:5301/hospital.example', [g1], () => true);
  const failure = await publishAllOrNone([{ channel: sticky, add: [g2], remove: [] }, { channel: bad, add: [g2], remove: [] }], new Map([[sticky.id, [g1]], [bad.id, [g1]]]));
  assert.deepEqual(failure?.rolledBack, []);
  assert.equal(failure?.rollbackFailed[0]?.channel, sticky.id);
  assert.match(describeFailure(failure!), /CHANNEL_ROLLBACK_FAILED on rfc2136:\/\/127\.0\.0\.1:5300\/hospital\.example/);
  const x = memoryChannel('x', [g1]);
  const y = memoryChannel('y', [g1]);
  assert.equal(await publishAllOrNone([{ channel: x, add: [g2], remove: [g1] }, { channel: y, add: [g2], remove: [g1] }], new Map()), null);
  assert.deepEqual(x.keys(), [recordKey(g2)]);
  assert.deepEqual(y.keys(), [recordKey(g2)]);
});
