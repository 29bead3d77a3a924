// Pure encoders and parsers of the DNS adapter: property tests (fast-check) for every parser of presentation
// or wire input, example tests for the ADEM-specific grouping and provider output.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encode as cborEncode } from 'cborg';
import fc from 'fast-check';
import { EmblemError } from '../../src/core/errors.js';
import { parseAdemTxtValue } from '../../src/core/material/txt.js';
import { assertSingleCborItem, classifyIhleItem, skipCborItem } from '../../src/dns/cbor-item.js';
import { formatTxtRdata, joinTxtRdata, parseTxtRdata, quoteCharacterString, txtRdata, unescapeToBytes } from '../../src/dns/character-strings.js';
import { nameToWire, normalizeUserName, parseEscapedName, parseName, toFqdn } from '../../src/dns/domain-name.js';
import { emblemRecords, emblemTxtValue } from '../../src/dns/emblem-records.js';
import { formatGenericRdata, parseGenericRdata, parseHexPresentation } from '../../src/dns/generic-rdata.js';
import { parsePublishableText } from '../../src/dns/material-files.js';
import { renderOctodnsYaml } from '../../src/dns/octodns-yaml.js';
import { parseQuery } from '../../src/dns/query-message.js';
import { parseRdata } from '../../src/dns/rdata.js';
import { buildQuery } from '../../src/dns/resolver.js';
import { RRType } from '../../src/dns/rr-type.js';
import { decodeEmblemRecords } from '../../src/dns/token-sets.js';
import { parseZoneFile, renderZoneFile, type ZoneRecord } from '../../src/dns/zone-file.js';
import { tokenizeZone } from '../../src/dns/zone-tokenizer.js';
import { INTEROP_DNS } from './fixtures.js';

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const label = fc.stringMatching(/^[a-z0-9_]([a-z0-9-]{0,20}[a-z0-9])?$/);
const relativeName = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const identifier = fc.stringMatching(/^[\x21-\x2c\x2e-\x7e]{1,12}$/);

describe('TXT character-strings', () => {
  test('split into <=255-byte strings and joined back to the same value', () => {
    fc.assert(
      fc.property(bytes(3000), (value) => {
        const rdata = txtRdata(value);
        const strings = parseTxtRdata(rdata);
        assert.ok(strings.every((s) => s.length <= 255));
        assert.deepEqual(new Uint8Array(joinTxtRdata(rdata)), value);
      }),
    );
  });

  test('presentation (quoted, escaped) parses back to the same bytes', () => {
    fc.assert(
      fc.property(fc.array(bytes(255), { minLength: 1, maxLength: 5 }), (strings) => {
        const rdata = Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([s.length]), s])));
        const text = formatTxtRdata(rdata);
        const [entry] = tokenizeZone(`x TXT ${text}\n`);
        assert.deepEqual(parseRdata(RRType.TXT, entry!.tokens.slice(2), ''), rdata);
        for (const s of strings) {
          const quoted = quoteCharacterString(s);
          assert.deepEqual(new Uint8Array(unescapeToBytes(quoted.slice(1, -1))), s);
        }
      }),
    );
  });

  test('a truncated TXT RDATA is an error, never an out-of-bounds read', () => {
    fc.assert(
      fc.property(bytes(600), (raw) => {
        try {
          joinTxtRdata(raw);
        } catch (err) {
          assert.ok(err instanceof EmblemError);
        }
      }),
    );
  });
});

describe('RFC 3597 generic RDATA and IHLE hex', () => {
  test('round trip, case-insensitive, whitespace allowed', () => {
    fc.assert(
      fc.property(bytes(2000), fc.integer({ min: 1, max: 16 }), (value, chunk) => {
        const text = formatGenericRdata(value);
        assert.deepEqual(new Uint8Array(parseGenericRdata(text.split(' '))), value);
        if (value.length === 0) return;
        const hex = Buffer.from(value).toString('hex');
        const spaced = hex.match(new RegExp(`.{1,${chunk * 2}}`, 'g'))!.join(' \n');
        assert.deepEqual(new Uint8Array(parseGenericRdata(['\\#', String(value.length), ...spaced.split(/\s+/)])), value);
        assert.deepEqual(new Uint8Array(parseHexPresentation(spaced.toUpperCase())), value);
      }),
    );
  });

  test('a length that disagrees with the hex is rejected', () => {
    assert.throws(() => parseGenericRdata(['\\#', '3', 'A101']), EmblemError);
    assert.throws(() => parseGenericRdata(['\\#', '1', 'A1G1']), EmblemError);
  });
});

describe('CBOR item framing (IHLE RDATA = exactly one item)', () => {
  const cborValue = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.integer(),
      fc.string(),
      fc.uint8Array({ maxLength: 64 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 5 }), tie('value'), { maxKeys: 4 }),
    ),
  })).value;

  test('finds the end of any encoded value; rejects trailing bytes and truncation', () => {
    fc.assert(
      fc.property(cborValue, (v) => {
        const enc = cborEncode(v);
        assert.equal(skipCborItem(enc, 0), enc.length);
        assertSingleCborItem(enc);
        assert.throws(() => assertSingleCborItem(Uint8Array.from([...enc, 0])), EmblemError);
        if (enc.length > 1) assert.throws(() => assertSingleCborItem(enc.subarray(0, enc.length - 1)), EmblemError);
      }),
    );
  });

  test('hostile bytes only ever raise EmblemError (no RangeError, no hang)', () => {
    fc.assert(
      fc.property(bytes(200), (raw) => {
        try {
          classifyIhleItem(raw);
        } catch (err) {
          assert.ok(err instanceof EmblemError, String(err));
        }
      }),
      { numRuns: 2000 },
    );
    // Deep nesting: 10,000 nested arrays.
    assert.throws(() => assertSingleCborItem(new Uint8Array(10_000).fill(0x81)), EmblemError);
  });
});

describe('zone files', () => {
  const record = fc.oneof(
    fc.record({ type: fc.constant(RRType.A), rdata: fc.uint8Array({ minLength: 4, maxLength: 4 }) }),
    fc.record({ type: fc.constant(RRType.AAAA), rdata: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
    fc.record({ type: fc.constant(RRType.TXT), rdata: bytes(700).map((b) => txtRdata(b)) }),
    fc.record({ type: fc.constant(65400), rdata: fc.uint8Array({ minLength: 1, maxLength: 700 }) }),
  );

  test('render -> parse gives back the same records (what NSD/Knot/BIND will load)', () => {
    fc.assert(
      fc.property(relativeName, fc.array(fc.tuple(relativeName, record, fc.integer({ min: 0, max: 86400 })), { maxLength: 12 }), (originText, rrs) => {
        const origin = normalizeUserName(originText);
        const soa = Buffer.concat([nameToWire(`ns1.${origin}`), nameToWire(`h.${origin}`), Buffer.alloc(20, 1)]);
        const records: ZoneRecord[] = [
          { owner: origin, ttl: 300, type: RRType.SOA, rdata: soa },
          { owner: origin, ttl: 300, type: RRType.NS, rdata: nameToWire(`ns1.${origin}`) },
          ...rrs.map(([owner, r, ttl]) => ({ owner: `${owner}.${origin}`, ttl, type: r.type, rdata: Buffer.from(r.rdata) })),
        ];
        const text = renderZoneFile({ origin, records });
        const parsed = parseZoneFile(text);
        assert.equal(parsed.origin, origin);
        assert.deepEqual(
          parsed.records.map((r) => [r.owner, r.ttl, r.type, r.rdata.toString('hex')]),
          records.map((r) => [r.owner, r.ttl, r.type, r.rdata.toString('hex')]),
        );
      }),
      { numRuns: 200 },
    );
  });

  test('master-file syntax: parentheses, comments, blank owners, $TTL units, IHLE mnemonic', () => {
    const zone = parseZoneFile(`$ORIGIN example.test.
$TTL 1h
@ IN SOA ns1 hostmaster ( 1 ; serial
   3600 900 1209600 300 )
  IN NS ns1.example.test. ; blank owner = previous
ns1 30 IN A 192.0.2.1
e IN TXT "a;b" "c\\"d" \\# ; last token is an unquoted \\#
e IHLE \\# 1 a0 ; hex, lower case
`);
    assert.equal(zone.origin, 'example.test');
    assert.equal(zone.records[1]!.ttl, 3600);
    assert.equal(zone.records[2]!.ttl, 30);
    assert.equal(joinTxtRdata(zone.records[3]!.rdata).toString(), 'a;bc"d#');
    assert.deepEqual(zone.records[4]!.rdata, Buffer.from([0xa0]));
  });

  test('refuses what an emblem zone must not contain', () => {
    const head = '$ORIGIN z.test.\n@ 60 IN SOA ns hm 1 1 1 1 1\n@ 60 IN NS ns\n';
    for (const bad of ['$INCLUDE /etc/passwd\n', 'sub 60 IN NS ns.other.\n', 'x 60 CH TXT "a"\n', 'other.test. 60 IN A 192.0.2.1\n', 'x 60 IN MX 10 mail\n', `x 60 IN TXT "${'a'.repeat(256)}"\n`]) {
      assert.throws(() => parseZoneFile(head + bad), EmblemError, bad);
    }
    assert.throws(() => parseZoneFile('$ORIGIN z.test.\nx 60 IN A 192.0.2.1\n'), EmblemError, 'SOA first');
  });

  test('arbitrary text never crashes the zone parser', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        try {
          parseZoneFile(text);
        } catch (err) {
          assert.ok(err instanceof EmblemError, String(err));
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('domain names: relative, absolute, "@", escapes, limits', () => {
    assert.equal(parseName('WWW', 'example.test'), 'www.example.test');
    assert.equal(parseName('a.b.', 'x'), 'a.b');
    assert.equal(parseName('@', 'x'), 'x');
    assert.equal(toFqdn(''), '.');
    assert.throws(() => parseName('a..b.'), EmblemError);
    assert.throws(() => parseName(`${'a'.repeat(64)}.`), EmblemError);
    assert.throws(() => parseName(`${'a.'.repeat(128)}`), EmblemError);
  });

  test('the fast path for plain names gives what the general path gives, or the same error', () => {
    // Names near every edge the fast path checks: case, '-', '_', empty and 63/64-octet labels, 255/256-octet
    // names, escapes and characters it leaves to the general path, relative names.
    const piece = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_-]{0,6}$/),
      fc.constantFrom('a'.repeat(62), 'B'.repeat(63), 'c'.repeat(64), '\\.', '\\065', '*', '@x', '"', 'é', ' '),
    );
    const text = fc.tuple(fc.array(piece, { maxLength: 70 }), fc.boolean()).map(([labels, absolute]) => labels.join('.') + (absolute ? '.' : ''));
    const outcome = (f: () => string) => {
      try {
        return { key: f() };
      } catch (err) {
        assert.ok(err instanceof EmblemError, String(err));
        return { code: err.code, message: err.message };
      }
    };
    fc.assert(
      fc.property(text, fc.constantFrom('', 'example.test'), (t, origin) => {
        if (t === '@' || t === '.') return;
        assert.deepEqual(outcome(() => parseName(t, origin)), outcome(() => parseEscapedName(t, origin)));
      }),
      { numRuns: 5000 },
    );
    assert.equal(parseName(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}.`).length, 253);
    assert.throws(() => parseName(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}.`), EmblemError);
    assert.equal(normalizeUserName('Clinic_1.Hospital-A.EXAMPLE'), 'clinic_1.hospital-a.example');
  });
});

describe('query parsing (hostile input)', () => {
  test('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(bytes(600), (raw) => {
        const r = parseQuery(raw);
        assert.ok(['query', 'error', 'drop'].includes(r.kind));
      }),
      { numRuns: 5000 },
    );
  });

  test('a well-formed query parses back to its name and type', () => {
    fc.assert(
      fc.property(relativeName, fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 65535 }), (name, qtype, id) => {
        const r = parseQuery(buildQuery(name, qtype, id));
        assert.equal(r.kind, 'query');
        if (r.kind !== 'query') return;
        assert.equal(r.query.qname, name);
        assert.equal(r.query.qtype, qtype);
        assert.equal(r.query.id, id);
        assert.equal(r.query.edns?.payload, 1232);
      }),
    );
  });

  test('a wire label containing "." cannot alias a two-label name', () => {
    const q = buildQuery('ab', 1, 1);
    const wire = Buffer.concat([q.subarray(0, 12), Buffer.from([3, 0x61, 0x2e, 0x62, 0]), q.subarray(16)]);
    const r = parseQuery(wire);
    assert.equal(r.kind, 'query');
    if (r.kind === 'query') assert.notEqual(r.query.qname, 'a.b');
  });
});

describe('ADEM records', () => {
  test('TXT values carry identifiers that the DNS-01 reader gets back', () => {
    fc.assert(
      fc.property(fc.option(identifier, { nil: null }), fc.stringMatching(/^[A-Za-z0-9_-]{1,40}\.[A-Za-z0-9_-]{1,40}\.[A-Za-z0-9_-]{1,40}$/), (id, jws) => {
        const value = emblemTxtValue({ material: { kind: 'jws', text: jws }, identifier: id });
        const parsed = parseAdemTxtValue(value);
        assert.deepEqual(parsed, { type: 'token', identifier: id, value: jws });
      }),
    );
  });

  test('keys are published without kid and private keys are refused', () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', alg: 'ES256', kid: 'ignored' };
    assert.equal(emblemTxtValue({ material: { kind: 'jwk', jwk }, identifier: null }), 'adem-key={"alg":"ES256","crv":"P-256","kty":"EC","x":"x","y":"y"}');
    assert.throws(() => emblemTxtValue({ material: { kind: 'jwk', jwk: { ...jwk, d: 'secret' } }, identifier: null }), /private/);
    assert.throws(() => emblemTxtValue({ material: { kind: 'jwk', jwk }, identifier: 'a-b' }), /identifier/);
  });

  test('records group by identifier; records without one join every set', () => {
    const txt = (s: string) => Buffer.from(s);
    const { sets, otherTxt } = decodeEmblemRecords(
      [txt('adem-token-a=A1.b.c'), txt('adem-token-b=B1.b.c'), txt('adem-key={"kty":"EC"}'), txt('v=spf1 -all'), txt('adem-token-a=A2.b.c')],
      [Buffer.from([0xa1, 0x01, 0x02])],
    );
    assert.equal(otherTxt, 1);
    assert.deepEqual(
      sets.map((s) => [s.era, s.identifier, s.material.map((m) => m.kind)]),
      [
        ['jws', 'a', ['jws', 'jws', 'jwk']],
        ['jws', 'b', ['jws', 'jwk']],
        ['cwt', null, ['cose-key']],
      ],
    );
  });

  test('bad records are reported and skipped, not fatal', () => {
    const { sets, errors } = decodeEmblemRecords([Buffer.from('adem-key=not json')], [Buffer.from([0xa1, 0x01]), Buffer.from([0x01, 0x02])]);
    assert.equal(sets.length, 0);
    assert.equal(errors.length, 3);
  });

  test('the live dig files are read as publishable items, one per record', () => {
    for (const file of ['cyberstar.online.txt', 'emblem.felixlinker.de.txt', 'emblem.redcross.org.uk.txt']) {
      const path = join(INTEROP_DNS, file);
      const text = readFileSync(path);
      const items = parsePublishableText(text, path);
      assert.equal(items.length, text.toString().trim().split('\n').length);
      const { records } = emblemRecords(items, 'x.test', { era: 'jws' });
      assert.equal(records.length, items.length);
    }
  });

  test('octoDNS YAML: whole values (octoDNS splits them), ";" escaped, IHLE listed as unsupported', () => {
    const long = `adem-token=${'a'.repeat(600)};x`;
    const yaml = renderOctodnsYaml(
      {
        origin: 'example.test',
        records: [
          { owner: 'example.test', ttl: 60, type: RRType.SOA, rdata: Buffer.concat([nameToWire('ns'), nameToWire('h'), Buffer.alloc(20)]) },
          { owner: 'e.example.test', ttl: 60, type: RRType.TXT, rdata: txtRdata(Buffer.from(long)) },
          { owner: 'e.example.test', ttl: 60, type: RRType.TXT, rdata: txtRdata(Buffer.from("it's")) },
          { owner: 'e.example.test', ttl: 60, type: 65400, rdata: Buffer.from([0xa0]) },
        ],
      },
      65400,
    );
    assert.ok(yaml.includes(`- 'adem-token=${'a'.repeat(600)}\\;x'`));
    assert.ok(yaml.includes(`- 'it''s'`));
    assert.match(yaml, /# e IHLE \(TYPE65400\)/);
    assert.ok(!yaml.includes('SOA'));
  });
});
