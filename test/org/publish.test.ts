import { strict as assert } from 'node:assert';
import { createServer } from 'node:net';
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

/** A primary that answers UPDATE messages over TCP (unsigned), with the RCODE `rcode(n)` for the n-th message. */
async function fakePrimary(rcode: (n: number) => number): Promise<{ port: number; messages: Buffer[]; close(): Promise<void> }> {
  const messages: Buffer[] = [];
  const server = createServer((sock) => {
    let pending = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < 2 || pending.length < 2 + pending.readUInt16BE(0)) return;
      const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
      messages.push(Buffer.from(msg));
      const answer = Buffer.alloc(12);
      msg.copy(answer, 0, 0, 4);
      answer[2] = answer[2]! | 0x80;
      answer[3] = rcode(messages.length) & 0xf;
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(12);
      sock.end(Buffer.concat([prefix, answer]));
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test('rfc2136 channel: a change over several UPDATE messages is undone on the primary when a later message fails', async () => {
  const { Rfc2136Channel } = await import('../../src/org/channels/rfc2136.js');
  const { buildUpdateMessage } = await import('../../src/dns/update/message.js');
  const { UpdateLimits } = await import('../../src/dns/update/limits.js');
  const max = UpdateLimits.maxRecordsPerMessage;
  const add = Array.from({ length: max + 5 }, (_, i) => rec(`a${i}.hospital.example`, `adem-token-g2=${i}`));
  const remove = Array.from({ length: 3 }, (_, i) => rec(`a${i}.hospital.example`, `adem-token-g1=${i}`));
  // Messages: add 40 (ok), add 5 (ok), remove 3 (REFUSED); then the undo: remove the 5, remove the 40.
  const primary = await fakePrimary((n) => (n === 3 ? 5 : 0));
  try {
    const ch = await Rfc2136Channel.open(`rfc2136://127.0.0.1:${primary.port}/hospital.example`, undefined, { ihleType: 65400 });
    await assert.rejects(ch.apply({ add, remove }), (e: EmblemError) => e.code === 'DNS_UPDATE_REFUSED' && e.message.includes(`127.0.0.1:${primary.port}`) && /the 2 UPDATE message\(s\) of this change already accepted were undone/.test(e.message));
    assert.equal(primary.messages.length, 5);
    const expected = (m: Buffer, change: { add: DnsRecord[]; remove: DnsRecord[] }) => buildUpdateMessage(m.readUInt16BE(0), 'hospital.example', change);
    assert.deepEqual(primary.messages[3], expected(primary.messages[3]!, { add: [], remove: add.slice(max) }), 'the last accepted message undone first');
    assert.deepEqual(primary.messages[4], expected(primary.messages[4]!, { add: [], remove: add.slice(0, max) }));
    // A small change is one message: nothing to undo on this primary.
    const single = await fakePrimary(() => 5);
    try {
      const one = await Rfc2136Channel.open(`rfc2136://127.0.0.1:${single.port}/hospital.example`, undefined, { ihleType: 65400 });
      await assert.rejects(one.apply({ add: add.slice(0, 2), remove: [] }), (e: EmblemError) => e.code === 'DNS_UPDATE_REFUSED' && !e.message.includes('undone'));
      assert.equal(single.messages.length, 1);
    } finally {
      await single.close();
    }
  } finally {
    await primary.close();
  }
});
