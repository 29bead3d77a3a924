import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizeUserName } from '../../src/dns/domain-name.js';
import { buildQuery } from '../../src/dns/resolver.js';
import { RRType } from '../../src/dns/rr-type.js';
import { decodeDnsParam, minimumTtl } from '../../src/server/doh.js';
import { tempDir, udpAsk } from '../dns/servers.js';
import { writeInteropZone } from '../dns/fixtures.js';
import { startListening, tcpAsk, type Started } from './helpers.js';

interface DnsListening {
  addresses: string[];
  doh: string[];
}

const QUESTIONS: Array<[string, number]> = [
  ['cyberstar.online', RRType.TXT],
  ['emblem.felixlinker.de', RRType.TXT],
  ['emblem.felixlinker.de', RRType.AAAA],
  ['empty.example', RRType.A],
  ['empty.example', RRType.TXT],
  ['nothing-here.example', RRType.TXT],
];

const get = (url: string, query: Buffer) => fetch(`${url}?dns=${query.toString('base64url')}`, { headers: { accept: 'application/dns-message' } });
const post = (url: string, body: Uint8Array, type = 'application/dns-message') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body: Buffer.from(body) });

describe('emblem dns serve --doh (RFC 8484)', () => {
  const dir = tempDir('emblem-doh-');
  let server: Started<DnsListening>;
  let udpPort: number;
  let doh: string;

  before(async () => {
    const zone = await writeInteropZone(dir.path);
    server = await startListening<DnsListening>(['dns', 'serve', '--zone', zone, '--listen', '127.0.0.1:0', '--doh', '127.0.0.1:0', '--doh-timeout', '1', '--rrl-responses-per-second', '0']);
    const addr = server.listening.addresses[0]!;
    udpPort = Number(addr.slice(addr.lastIndexOf(':') + 1));
    doh = server.listening.doh[0]!;
    assert.match(doh, /^http:\/\/127\.0\.0\.1:\d+\/dns-query$/);
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });

  it('answers GET and POST exactly as UDP (or TCP, when UDP truncates) does, with max-age from the smallest TTL', async () => {
    let id = 1;
    for (const [name, qtype] of QUESTIONS) {
      const query = buildQuery(normalizeUserName(name), qtype, id++);
      const udp = await udpAsk(udpPort, query);
      assert.ok(udp, `UDP answer for ${name}`);
      const truncated = (udp[2]! & 0x02) !== 0;
      const reference = truncated ? await tcpAsk(udpPort, query) : udp;
      for (const res of [await get(doh, query), await post(doh, query)]) {
        assert.equal(res.status, 200, `${name} ${qtype}`);
        assert.equal(res.headers.get('content-type'), 'application/dns-message');
        const body = Buffer.from(await res.arrayBuffer());
        // DoH answers are TCP-sized; for untruncated UDP answers the bytes are identical.
        if (!truncated) assert.deepEqual(body, reference, `${name} ${qtype}`);
        else assert.deepEqual(body, await tcpAsk(udpPort, query));
        assert.equal(res.headers.get('cache-control'), `max-age=${minimumTtl(body)}`);
      }
    }
  });

  it('takes its max-age from the records: 3600 for the zone\'s emblem records', async () => {
    const res = await get(doh, buildQuery(normalizeUserName('cyberstar.online'), RRType.TXT, 0));
    assert.equal(res.headers.get('cache-control'), 'max-age=3600');
  });

  it('refuses malformed requests with 400/405/413/415 and a reason', async () => {
    const cases: Array<[Promise<Response>, number]> = [
      [fetch(doh), 400], // no dns=
      [fetch(`${doh}?dns=`), 400],
      [fetch(`${doh}?dns=***`), 400],
      [fetch(`${doh}?dns=AAAAAA==`), 400], // padding is not base64url per RFC 8484
      [fetch(`${doh}?dns=AAAA`), 400], // 3 bytes: not a DNS message
      [fetch(`${doh}?dns=${Buffer.alloc(5000).toString('base64url')}`), 400],
      [post(doh, new Uint8Array(0)), 400],
      [post(doh, new Uint8Array(12).fill(0xff)), 400],
      [post(doh, buildQuery(normalizeUserName('cyberstar.online'), RRType.TXT, 1), 'text/plain'), 415],
      [post(doh, new Uint8Array(100_000)), 413],
      [fetch(doh, { method: 'PUT', body: 'x' }), 405],
      [fetch(doh.replace('/dns-query', '/other')), 404],
    ];
    for (const [pending, status] of cases) {
      const res = await pending;
      assert.equal(res.status, status, await res.clone().text());
      assert.notEqual(res.headers.get('content-type'), 'application/dns-message');
      await res.arrayBuffer();
    }
  });

  it('never fails with 500 on random GET parameters and POST bodies (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.boolean(), async (bytes, usePost) => {
        const res = usePost ? await post(doh, bytes) : await fetch(`${doh}?dns=${Buffer.from(bytes).toString('base64url')}`);
        await res.arrayBuffer();
        assert.ok(res.status === 200 || res.status === 400, `status ${res.status}`);
      }),
      { numRuns: 150, seed: 8484 },
    );
  });

  it('cuts off a slow-loris client that never finishes its headers, and refuses an oversized declared body at once', async () => {
    const { port } = new URL(doh);
    const closed = await new Promise<string>((resolve) => {
      const sock = connect({ host: '127.0.0.1', port: Number(port) }, () => sock.write('GET /dns-query?dns=AAAA HTTP/1.1\r\nHost: x\r\n'));
      let data = '';
      sock.on('data', (d) => (data += d));
      sock.on('close', () => resolve(data));
      sock.setTimeout(8_000, () => {
        sock.destroy();
        resolve('still open');
      });
    });
    assert.notEqual(closed, 'still open');
    const big = await new Promise<string>((resolve) => {
      const sock = connect({ host: '127.0.0.1', port: Number(port) }, () =>
        sock.write('POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: application/dns-message\r\nContent-Length: 10485760\r\n\r\n'),
      );
      let data = '';
      sock.on('data', (d) => (data += d));
      sock.on('close', () => resolve(data));
    });
    assert.match(big, /^HTTP\/1\.1 413/);
  });
});

describe('DoH helpers', () => {
  it('decodes only unpadded base64url', () => {
    assert.deepEqual(decodeDnsParam('AAEC'), new Uint8Array([0, 1, 2]));
    assert.equal(decodeDnsParam('AA=='), null);
    assert.equal(decodeDnsParam('A'), null);
    assert.equal(decodeDnsParam('a+b/'), null);
  });
  it('minimumTtl never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => Number.isInteger(minimumTtl(b))));
  });
});
