// Issue 14 target 5: the resolver client's batched UDP transport (native sendmmsg/recvmmsg) answers exactly as the
// node:dgram fallback: same scan output byte for byte, same refusal of off-path answers.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BatchedUdpClientPool, UdpQueryTimeout } from '../../src/dns/batched-udp-client.js';
import { batchedUdp } from '../../src/dns/batched-udp-socket.js';
import { UdpSocketPool, type UdpExchanger } from '../../src/dns/udp-socket-pool.js';
import { buildScanWorld, type ScanWorld } from '../scan/scan-fixture.js';
import { SCAN_FLAGS, startDnsServer, tempDir, waitFor } from '../scan/scan-helpers.js';
import { spawn } from 'node:child_process';
import { CLI } from '../helpers/cli.js';

const native = batchedUdp();
const switchedOff = process.env.EMBLEM_NATIVE_UDP === '0';
// CI builds the module (make, gcc): there a missing module fails, unless the run switched it off on purpose.
if (!native && !switchedOff && process.env.CI === 'true' && process.platform === 'linux') throw new Error('native UDP module not built on CI (npm run install)');
const skipNative = native ? false : switchedOff ? 'switched off (EMBLEM_NATIVE_UDP=0)' : 'native UDP module not built (npm install builds it on Linux)';

describe('batched resolver client and node:dgram give identical scan output', { skip: skipNative }, () => {
  const tmp = tempDir('emblem-batched-resolver-');
  let world: ScanWorld;
  before(async () => {
    world = await buildScanWorld(tmp.dir, 800, undefined, 14);
  });
  after(() => tmp.remove());

  const scan = async (address: string, out: string, env: NodeJS.ProcessEnv) => {
    const child = spawn(process.execPath, [CLI, 'scan', ...SCAN_FLAGS, '--force', '--input', world.inputFile, '--resolver', address, '--out', out, '--concurrency', '300'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const r = await waitFor(child, 120_000);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { dnsQueries: number; byStatus: Record<string, number> };
  };

  test('every category (protected, expired, invalid, not covered, no emblem, NXDOMAIN) scans the same both ways (and with the lean response decoder off)', async () => {
    const server = await startDnsServer(world.zoneFiles, join(tmp.dir, 'stats.json'));
    let batched, dgram, dnsPacketOnly;
    try {
      batched = await scan(server.address, join(tmp.dir, 'batched.jsonl'), { EMBLEM_NO_BATCHED_RESOLVER: undefined, EMBLEM_NO_LEAN_DNS_DECODE: undefined });
      dgram = await scan(server.address, join(tmp.dir, 'dgram.jsonl'), { EMBLEM_NO_BATCHED_RESOLVER: '1' });
      // The lean response decoder off: every answer through dns-packet, same results.
      dnsPacketOnly = await scan(server.address, join(tmp.dir, 'dns-packet.jsonl'), { EMBLEM_NO_BATCHED_RESOLVER: undefined, EMBLEM_NO_LEAN_DNS_DECODE: '1' });
    } finally {
      await server.stop();
    }
    assert.deepEqual(batched.byStatus, dgram.byStatus);
    assert.equal(batched.dnsQueries, dgram.dnsQueries);
    const a = readFileSync(join(tmp.dir, 'batched.jsonl'), 'utf8');
    const b = readFileSync(join(tmp.dir, 'dgram.jsonl'), 'utf8');
    assert.equal(a.split('\n').length, 801);
    assert.equal(a, b);
    assert.deepEqual(dnsPacketOnly.byStatus, batched.byStatus);
    assert.equal(readFileSync(join(tmp.dir, 'dns-packet.jsonl'), 'utf8'), a);
    // The world's expectations hold too (not just "both equally wrong").
    const results = a.trim().split('\n').map((l) => JSON.parse(l) as { target: string; status: string });
    const expected = new Map(world.expectations.map((e) => [e.name, e.status]));
    for (const r of results) assert.equal(r.status, expected.get(r.target), r.target);
  });
});

/** A UDP responder on 127.0.0.1 that calls `reply` with each query turned into an answer and the client's port. */
async function responder(reply: (answer: Buffer, clientPort: number, server: Socket, spare: Socket) => void): Promise<{ port: number; close(): void }> {
  const server = createSocket('udp4');
  const spare = createSocket('udp4');
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => spare.bind(0, '127.0.0.1', r));
  server.on('message', (msg, rinfo) => {
    const answer = Buffer.from(msg);
    answer[2] = answer[2]! | 0x80;
    reply(answer, rinfo.port, server, spare);
  });
  return { port: server.address().port, close: () => (server.close(), spare.close()) };
}

function query(id: number): Buffer {
  const q = Buffer.alloc(17);
  q.writeUInt16BE(id, 0);
  q.writeUInt16BE(1, 4);
  Buffer.from([1, 0x61, 0, 0, 16, 0, 1]).copy(q, 12);
  return q;
}

const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<null>((res) => setTimeout(() => res(null), ms))]);

describe('batched UDP transport deadlines', { skip: skipNative }, () => {
  test('an unanswered query rejects with UdpQueryTimeout after its timeout; an answered one does not', async () => {
    const pool = new BatchedUdpClientPool(native!);
    const r = await responder((answer, clientPort, server) => {
      if (answer.readUInt16BE(0) === 1) server.send(answer, clientPort, '127.0.0.1');
    });
    try {
      const answered = pool.send('127.0.0.1', r.port, query(1), 300);
      const silent = pool.send('127.0.0.1', r.port, query(2), 300);
      const started = performance.now();
      assert.equal((await answered.answer).readUInt16BE(0), 1);
      answered.cancel();
      await assert.rejects(silent.answer, UdpQueryTimeout);
      silent.cancel();
      assert.ok(performance.now() - started >= 250, 'timed out too early');
    } finally {
      r.close();
    }
  });
});

for (const [kind, make] of [
  ['batched', () => new BatchedUdpClientPool(native!)],
  ['dgram', () => new UdpSocketPool()],
] as Array<[string, () => UdpExchanger]>) {
  describe(`${kind} UDP transport`, { skip: kind === 'batched' ? skipNative : false }, () => {
    test('takes only the answer from the address asked with the query ID (a spoof from another port and a wrong ID are ignored)', async () => {
      const pool = make();
      const r = await responder((answer, clientPort, server, spare) => {
        const spoof = Buffer.from(answer);
        spoof[13] = 0x7a; // same ID, other source port, other content
        spare.send(spoof, clientPort, '127.0.0.1');
        const wrongId = Buffer.from(answer);
        wrongId.writeUInt16BE(answer.readUInt16BE(0) ^ 1, 0);
        server.send(wrongId, clientPort, '127.0.0.1');
        setTimeout(() => server.send(answer, clientPort, '127.0.0.1'), 30);
      });
      try {
        const x = pool.send('127.0.0.1', r.port, query(0x1234));
        const got = await within(x.answer, 2_000);
        x.cancel();
        assert.ok(got, 'no answer within 2 s');
        assert.equal(got.readUInt16BE(0), 0x1234);
        assert.equal(got[13], 0x61, 'the spoofed datagram from another port was taken');
      } finally {
        r.close();
      }
    });

    test('many queries asked in one turn all get their own answers (one batch out, batches in)', async () => {
      const pool = make();
      const r = await responder((answer, clientPort, server) => server.send(answer, clientPort, '127.0.0.1'));
      try {
        // 200: a burst the responder's default receive buffer holds (about 270 small datagrams).
        const ids = Array.from({ length: 200 }, (_, i) => (i * 131) & 0xffff);
        const exchanges = ids.map((id) => pool.send('127.0.0.1', r.port, query(id)));
        const answers = await within(Promise.all(exchanges.map((x) => x.answer)), 5_000);
        for (const x of exchanges) x.cancel();
        assert.ok(answers, 'not every query was answered within 5 s');
        assert.deepEqual(answers.map((a) => a.readUInt16BE(0)), ids);
      } finally {
        r.close();
      }
    });

    test('a cancelled query is not answered (its caller gave up)', async () => {
      const pool = make();
      const r = await responder((answer, clientPort, server) => setTimeout(() => server.send(answer, clientPort, '127.0.0.1'), 20));
      try {
        const x = pool.send('127.0.0.1', r.port, query(7));
        x.cancel();
        assert.equal(await within(x.answer, 200), null);
      } finally {
        r.close();
      }
    });
  });
}
