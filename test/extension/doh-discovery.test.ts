/**
 * The extension's DNS side without a browser: the Uint8Array DNS codec against dns-packet (what the CLI uses),
 * hostile answers (property test: any bytes give an answer or DNS_RESPONSE_MALFORMED, never another exception),
 * and DoH discovery over an injected fetch with the same rules as src/dns/discovery.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { decodeDnsMessage, encodeDnsQuery, txtValue } from '../../src/browser/dns-wire.js';
import { discoverViaDoh, type DohFetch } from '../../src/browser/doh-discovery.js';
import { EmblemError } from '../../src/core/errors.js';

const IHLE = 65400;

function answer(question: Buffer, records: { answers?: dnsPacket.Answer[]; additionals?: dnsPacket.Answer[]; rcode?: string; flags?: number }): Buffer {
  const q = dnsPacket.decode(question);
  // dns-packet takes the RCODE from the low bits of flags when encoding.
  const rcode = { NXDOMAIN: 3, SERVFAIL: 2 }[records.rcode ?? ''] ?? 0;
  return dnsPacket.encode({
    type: 'response', id: q.id, flags: (records.flags ?? 0) | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode,
    questions: q.questions, answers: records.answers ?? [], additionals: records.additionals ?? [],
  } as dnsPacket.Packet);
}

/** A DoH server as a fetch: decodes the ?dns= query and answers from `zone` (name -> type -> records). */
function fakeDoh(handler: (q: dnsPacket.Question, raw: Buffer) => Buffer | Response, asked: string[] = []): DohFetch {
  return async (url) => {
    const raw = Buffer.from(new URL(url).searchParams.get('dns')!, 'base64url');
    const q = dnsPacket.decode(raw).questions![0]!;
    asked.push(`${q.name} ${q.type}`);
    const out = handler(q, raw);
    return out instanceof Response ? out : new Response(Uint8Array.from(out), { headers: { 'content-type': 'application/dns-message' } });
  };
}

const txt = (name: string, ...values: string[]): dnsPacket.Answer[] => values.map((v) => ({ type: 'TXT', name, ttl: 60, class: 'IN', data: [v.slice(0, 255), v.slice(255)].filter(Boolean) }) as dnsPacket.Answer);
const options = (fetch: DohFetch, era: 'jws' | 'cwt' | 'any' = 'any') => ({ url: 'https://doh.test/dns-query', era, ihleType: IHLE, timeoutMs: 1000, fetch });

describe('DNS wire codec for the browser', () => {
  it('encodes queries dns-packet reads as asked (ID 0, RD, one question)', () => {
    const q = dnsPacket.decode(Buffer.from(encodeDnsQuery('clinic.hospital.example', 16)));
    assert.equal(q.id, 0);
    assert.equal(q.flags! & dnsPacket.RECURSION_DESIRED, dnsPacket.RECURSION_DESIRED);
    assert.deepEqual(q.questions, [{ name: 'clinic.hospital.example', type: 'TXT', class: 'IN' }]);
    assert.throws(() => encodeDnsQuery(`${'a'.repeat(64)}.example`, 16), (e: EmblemError) => e.code === 'DNS_NAME_INVALID');
    assert.throws(() => encodeDnsQuery('a\\046b.example', 16), (e: EmblemError) => e.code === 'DNS_NAME_INVALID');
  });

  it('decodes what dns-packet encodes: compressed names, CNAME targets, joined TXT strings, raw IHLE RDATA', () => {
    const query = Buffer.from(encodeDnsQuery('www.example', 16));
    const msg = decodeDnsMessage(answer(query, {
      answers: [
        { type: 'CNAME', name: 'www.example', ttl: 5, class: 'IN', data: 'Host.Example' } as dnsPacket.Answer,
        ...txt('host.example', `adem-token=${'x'.repeat(300)}`),
      ],
      additionals: [{ type: `UNKNOWN_${IHLE}` as 'A', name: 'host.example', ttl: 5, class: 'IN', data: Buffer.from([0xd8, 0x3d, 1]) } as unknown as dnsPacket.Answer],
    }));
    assert.equal(msg.answers[0]!.target, 'host.example');
    assert.equal(new TextDecoder().decode(txtValue(msg.answers[1]!.rdata)), `adem-token=${'x'.repeat(300)}`);
    assert.deepEqual([...msg.additionals[0]!.rdata], [0xd8, 0x3d, 1]);
    assert.equal(msg.additionals[0]!.type, IHLE);
  });

  it('turns any bytes into an answer or DNS_RESPONSE_MALFORMED, never another exception', () => {
    const query = Buffer.from(encodeDnsQuery('a.example', 16));
    const valid = answer(query, { answers: [...txt('a.example', 'adem-key={}'), { type: 'CNAME', name: 'a.example', ttl: 1, class: 'IN', data: 'b.example' } as dnsPacket.Answer] });
    const check = (bytes: Uint8Array) => {
      try {
        decodeDnsMessage(bytes);
      } catch (err) {
        assert.ok(err instanceof EmblemError && err.code === 'DNS_RESPONSE_MALFORMED', String(err));
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => check(b)), { numRuns: 2000 });
    // Mutations of a valid answer reach the deeper parsing paths (pointers, lengths).
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
      const b = Uint8Array.from(valid);
      for (const [i, v] of edits) b[i] = v;
      check(b);
    }), { numRuns: 2000 });
    // A pointer loop is refused, not followed forever.
    const loop = Uint8Array.from(valid);
    const at = query.length; // first answer's owner name
    loop[at] = 0xc0;
    loop[at + 1] = at;
    assert.throws(() => decodeDnsMessage(loop), (e: EmblemError) => e.code === 'DNS_RESPONSE_MALFORMED');
  });
});

describe('DoH discovery (the extension\'s lookup)', () => {
  it('asks TXT then IHLE for era any, follows CNAMEs, and reports the DoH transport', async () => {
    const asked: string[] = [];
    const fetch = fakeDoh((q, raw) => (q.type === 'TXT'
      ? answer(raw, { answers: [{ type: 'CNAME', name: 'clinic.example', ttl: 1, class: 'IN', data: 'edge.cdn.example' } as dnsPacket.Answer, ...txt('edge.cdn.example', 'adem-token=abc', 'v=spf1 -all')] })
      : answer(raw, {})), asked);
    const r = await discoverViaDoh('clinic.example', options(fetch));
    assert.deepEqual(asked, ['clinic.example TXT', `clinic.example UNKNOWN_${IHLE}`]);
    assert.deepEqual(r.txtValues.map((v) => new TextDecoder().decode(v)), ['adem-token=abc', 'v=spf1 -all']);
    assert.equal(r.report.transport, 'doh');
    assert.equal(r.report.resolver, 'https://doh.test/dns-query');
    assert.equal(r.report.queries.length, 2);
  });

  it('takes IHLE from the Additional section of the TXT answer (DNS-02) without asking again', async () => {
    const asked: string[] = [];
    const fetch = fakeDoh((_q, raw) => answer(raw, { additionals: [{ type: `UNKNOWN_${IHLE}`, name: 'x.example', ttl: 1, class: 'IN', data: Buffer.from([0xd8, 0x3d]) } as unknown as dnsPacket.Answer] }), asked);
    const r = await discoverViaDoh('x.example', options(fetch));
    assert.equal(asked.length, 1);
    assert.equal(r.ihleRdatas.length, 1);
    assert.equal(r.report.records.ihleFromAdditional, 1);
    // --era jws ignores IHLE records even when they come along.
    assert.equal((await discoverViaDoh('x.example', options(fetch, 'jws'))).ihleRdatas.length, 0);
  });

  it('reports NXDOMAIN as a result and resolver failures as DNS_* errors', async () => {
    const nx = await discoverViaDoh('gone.example', options(fakeDoh((_q, raw) => answer(raw, { rcode: 'NXDOMAIN' }))));
    assert.equal(nx.report.rcode, 'NXDOMAIN');
    assert.equal(nx.report.queries.length, 1);
    const fails: Array<[Parameters<typeof fakeDoh>[0], string]> = [
      [(_q, raw) => answer(raw, { rcode: 'SERVFAIL' }), 'DNS_RESOLVER_FAILED'],
      [(_q, raw) => answer(raw, { flags: dnsPacket.TRUNCATED_RESPONSE }), 'DNS_ANSWER_TOO_LARGE'],
      [() => new Response('nope', { status: 503 }), 'DNS_RESOLVER_UNAVAILABLE'],
      [() => new Response('<html>', { headers: { 'content-type': 'text/html' } }), 'DNS_RESPONSE_MALFORMED'],
      [() => new Response(new Uint8Array(70_000), { headers: { 'content-type': 'application/dns-message' } }), 'LIMIT_EXCEEDED'],
      [() => new Response(new Uint8Array([1, 2, 3]), { headers: { 'content-type': 'application/dns-message' } }), 'DNS_RESPONSE_MALFORMED'],
    ];
    for (const [handler, code] of fails) {
      await assert.rejects(discoverViaDoh('a.example', options(fakeDoh(handler))), (e: EmblemError) => e.code === code, code);
    }
    const down: DohFetch = async () => {
      throw new TypeError('fetch failed');
    };
    await assert.rejects(discoverViaDoh('a.example', options(down)), (e: EmblemError) => e.code === 'DNS_RESOLVER_UNAVAILABLE');
  });
});
