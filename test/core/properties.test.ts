/**
 * Property-based tests (fast-check, seeded): the asset-identifier "more general" order, parsers that must only ever
 * throw EmblemError on arbitrary input, encoding round trips, single-byte mutations of signed tokens, and sign ->
 * verify round trips in both eras.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import {
  base32LowerNoPad,
  base32LowerNoPadDecode,
  base64Decode,
  base64Encode,
  base64urlDecode,
  base64urlEncode,
  hexDecode,
  hexEncode,
} from '../../src/core/encoding.js';
import { EmblemError } from '../../src/core/errors.js';
import { isMoreGeneral, parseAssetIdentifier, type AssetIdentifier, type DomainAsset } from '../../src/core/identifiers/asset.js';
import { parseOrganizationIdentifier } from '../../src/core/identifiers/organization.js';
import { Limits } from '../../src/core/limits.js';
import { parseMaterialText } from '../../src/core/material/parse-text.js';
import { joinTxtPresentation, parseAdemTxtValue } from '../../src/core/material/txt.js';
import { parseCwtToken } from '../../src/core/tokens/cwt.js';
import { parseJwsToken } from '../../src/core/tokens/jws.js';
import { parsePublicJwk } from '../../src/core/tokens/keys.js';
import { signCwt, signJws, type SigningKey } from '../../src/core/tokens/sign.js';
import type { PurposeName } from '../../src/core/tokens/token.js';
import { isFailure } from '../../src/core/verify/report.js';
import {
  b64json,
  cborEncode,
  cwtItem,
  emblemSpec,
  jwsItem,
  keyItems,
  makeKeys,
  NOW_S,
  ORG,
  Tagged,
  verify,
  cwtOrgChain,
  jwsOrgChain,
} from '../helpers/tokens.js';

// Deterministic: every property runs from a fixed seed (override with FC_SEED to explore).
const SEED = Number(process.env.FC_SEED ?? 20261123);
fc.configureGlobal({ seed: SEED, numRuns: 200 });

const [E256, R256, A256] = (await makeKeys(3, 'ES256')) as [SigningKey, SigningKey, SigningKey];
const [E512] = (await makeKeys(1, 'ES512')) as [SigningKey];

/** Throws only EmblemError (or nothing). Anything else, a TypeError, RangeError or plain Error, fails the property. */
function onlyEmblemErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof EmblemError)) throw new Error(`threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    assert.equal(typeof err.code, 'string');
  }
}

// ---- generators -----------------------------------------------------------------------------------------------

/** A small label vocabulary so that generated identifiers are often related (needed for order properties). */
const smallLabel = fc.constantFrom('a', 'b', 'c', 'www', 'xn--bcher-kva', 'svc_1', 'x-y');
const label = fc.oneof(smallLabel, fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/));
const labels = (minLength = 1) => fc.array(label, { minLength, maxLength: 4 });

/** Random upper/lower case of a name: domains compare case-insensitively. */
const recase = (text: string) => fc.array(fc.boolean(), { minLength: text.length, maxLength: text.length }).map((flags) => [...text].map((c, i) => (flags[i] ? c.toUpperCase() : c)).join(''));

const domainText = (ls: fc.Arbitrary<string[]>) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant('*') },
    { weight: 8, arbitrary: fc.tuple(ls, fc.boolean()).map(([l, wild]) => (wild ? '*.' : '') + l.join('.')) },
  );

/** Global-unicast IPv6 bytes (2000::/3), varying only in a few positions so prefixes often overlap. */
const ipv6Bytes = fc
  .tuple(fc.constantFrom(0x20, 0x2a, 0x3f), fc.constantFrom(0x00, 0x01, 0x80, 0xff), fc.constantFrom(0x00, 0x0d, 0xb8), fc.uint8Array({ minLength: 13, maxLength: 13 }))
  .map(([a, b, c, rest]) => Uint8Array.of(a, b, c, ...rest));

const v6text = (bytes: Uint8Array) => ipaddr.fromByteArray(Array.from(bytes)).toString();

const addressText = fc.oneof(
  fc.tuple(ipv6Bytes, fc.option(fc.constantFrom(0, 3, 8, 16, 17, 24, 32, 48, 64, 127, 128), { nil: undefined })).map(([b, p]) => `[${v6text(b)}${p === undefined ? '' : `/${p}`}]`),
  fc.tuple(fc.integer({ min: 1, max: 223 }).filter((a) => a !== 127), fc.nat(255), fc.nat(255), fc.nat(255), fc.option(fc.integer({ min: 0, max: 32 }), { nil: undefined }))
    .map(([a, b, c, d, p]) => `[${a}.${b}.${c}.${d}${p === undefined ? '' : `/${p}`}]`),
);

/** Tiny vocabularies, so that random pairs and triples are often related. */
const tinyDomain = fc
  .tuple(fc.array(fc.constantFrom('a', 'b'), { minLength: 1, maxLength: 3 }), fc.boolean())
  .map(([l, wild]) => `${wild ? '*.' : ''}${l.join('.')}`);
const tinyAddress = fc.oneof(
  fc.tuple(fc.constantFrom('2001:db8::', '2001:db8::1', '2001:db8:8000::1', '2001:db9::1'), fc.constantFrom(16, 31, 32, 33, 48, 128)).map(([a, p]) => `[${a}/${p}]`),
  fc.tuple(fc.constantFrom('192.0.2.1', '192.0.2.129', '192.0.3.1'), fc.constantFrom(16, 24, 25, 32)).map(([a, p]) => `[${a}/${p}]`),
);
const relatedAsset = fc.oneof({ weight: 1, arbitrary: fc.constant('*') }, { weight: 6, arbitrary: tinyDomain }, { weight: 4, arbitrary: tinyAddress }).map((t) => parseAssetIdentifier(t));
const anyAsset = fc.oneof(domainText(labels()), addressText).map((t) => parseAssetIdentifier(t));

// ---- the "more general" order ---------------------------------------------------------------------------------

describe('property: the asset identifier "more general" order', () => {
  it('is reflexive', () => {
    fc.assert(fc.property(anyAsset, (a) => isMoreGeneral(a, a)));
  });

  it('is transitive (random triples over a vocabulary where relations are frequent)', () => {
    fc.assert(
      fc.property(relatedAsset, relatedAsset, relatedAsset, (a, b, c) => {
        if (isMoreGeneral(a, b) && isMoreGeneral(b, c)) assert.ok(isMoreGeneral(a, c), `${a.text} >= ${b.text} >= ${c.text}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('is transitive, exhaustively over a small universe of domains, wildcards, prefixes and addresses', () => {
    const names = ['a', 'b'].flatMap((x) => [x, ...['a', 'b'].flatMap((y) => [`${x}.${y}`, ...['a', 'b'].map((z) => `${x}.${y}.${z}`)])]);
    const universe = [
      '*',
      ...names,
      ...names.map((n) => `*.${n}`),
      ...['2001:db8::', '2001:db8::1', '2001:db8:8000::1', '2001:db9::1'].flatMap((a) => [16, 31, 32, 33, 48, 127, 128].map((p) => `[${a}/${p}]`)),
      ...['192.0.2.1', '192.0.2.129', '192.0.3.1'].flatMap((a) => [16, 24, 25, 32].map((p) => `[${a}/${p}]`)),
      '[::ffff:192.0.2.1]',
      '[::ffff:192.0.2.0/120]',
    ].map((t) => parseAssetIdentifier(t));
    const n = universe.length;
    const ge = universe.map((a) => universe.map((b) => isMoreGeneral(a, b)));
    let chains = 0;
    for (let i = 0; i < n; i++) {
      assert.ok(ge[i]![i], `not reflexive: ${universe[i]!.text}`);
      for (let j = 0; j < n; j++) {
        if (!ge[i]![j]) continue;
        for (let k = 0; k < n; k++) {
          if (!ge[j]![k]) continue;
          if (i !== j && j !== k) chains++;
          assert.ok(ge[i]![k], `${universe[i]!.text} >= ${universe[j]!.text} >= ${universe[k]!.text} but not ${universe[i]!.text} >= ${universe[k]!.text}`);
        }
      }
    }
    assert.ok(chains > 500, `the universe should contain many chains (found ${chains})`);
  });

  it('is transitive along generated wildcard chains *.z >= *.y.z >= x.y.z', () => {
    fc.assert(
      fc.property(labels(1), labels(1), labels(1), fc.boolean(), (z, y, x, lastWild) => {
        const a = parseAssetIdentifier(`*.${z.join('.')}`);
        const b = parseAssetIdentifier(`*.${[...y, ...z].join('.')}`);
        const c = parseAssetIdentifier(`${lastWild ? '*.' : ''}${[...x, ...y, ...z].join('.')}`);
        assert.ok(isMoreGeneral(a, b) && isMoreGeneral(b, c) && isMoreGeneral(a, c), 'isMoreGeneral(a, b) && isMoreGeneral(b, c) && isMoreGeneral(a, c)');
        // and never the other way round (strictly more specific names are not more general)
        assert.ok(!isMoreGeneral(c, b) && !isMoreGeneral(b, a), '!isMoreGeneral(c, b) && !isMoreGeneral(b, a)');
      }),
    );
  });

  it('*.x covers x, every subdomain of x and every wildcard below x, in any letter case', () => {
    const pair = fc
      .tuple(labels(1), labels(0), fc.boolean())
      .chain(([x, sub, wild]) => fc.tuple(recase(`*.${x.join('.')}`), recase(`${wild ? '*.' : ''}${[...sub, ...x].join('.')}`)));
    fc.assert(fc.property(pair, ([g, s]) => isMoreGeneral(parseAssetIdentifier(g), parseAssetIdentifier(s))));
  });

  it('*.x covers no name outside x', () => {
    fc.assert(
      fc.property(labels(1), labels(1), (x, other) => {
        const xs = x.join('.');
        const os = other.join('.');
        fc.pre(os !== xs && !os.endsWith(`.${xs}`));
        assert.ok(!isMoreGeneral(parseAssetIdentifier(`*.${xs}`), parseAssetIdentifier(os)), '!isMoreGeneral(parseAssetIdentifier(`*.${xs}`), parseAssetIdentifier(os))');
        assert.ok(!isMoreGeneral(parseAssetIdentifier(`*.${xs}`), parseAssetIdentifier(`*.${os}`)), '!isMoreGeneral(parseAssetIdentifier(`*.${xs}`), parseAssetIdentifier(`*.${os}`))');
      }),
    );
  });

  it('"*" covers every domain identifier, and no address', () => {
    const star = parseAssetIdentifier('*');
    fc.assert(fc.property(fc.oneof(domainText(labels()), addressText), (t) => {
      const a = parseAssetIdentifier(t);
      assert.equal(isMoreGeneral(star, a), a.kind === 'domain');
    }));
  });

  it('a non-wildcard domain covers exactly the same name (case-insensitive, trailing dot ignored)', () => {
    fc.assert(
      fc.property(labels(1), domainText(labels()), fc.boolean(), (l, other, dot) => {
        const name = l.join('.');
        const a = parseAssetIdentifier(name);
        const b = parseAssetIdentifier(other) as DomainAsset;
        assert.equal(isMoreGeneral(a, b), !b.wildcard && b.labels.join('.') === name);
        assert.ok(isMoreGeneral(a, parseAssetIdentifier(name.toUpperCase() + (dot ? '.' : ''))), 'isMoreGeneral(a, parseAssetIdentifier(name.toUpperCase() + (dot ? \'.\' : \'\')))');
      }),
    );
  });

  it('a shorter IPv6 prefix covers every address and longer prefix inside it, and nothing outside', () => {
    // Prefixes of at least 3 bits inside 2000::/3 (every ipv6Bytes value starts with binary 001), so that all
    // generated addresses stay global unicast.
    fc.assert(
      fc.property(ipv6Bytes, fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 3, max: 128 }), fc.integer({ min: 3, max: 128 }), fc.nat(), (base, noise, p, q0, flip) => {
        const q = Math.max(p, q0);
        // The first p bits of base, then noise.
        const specific = Uint8Array.from(base, (byte, i) => {
          const keep = Math.max(0, Math.min(8, p - 8 * i));
          const mask = (0xff << (8 - keep)) & 0xff;
          return (byte & mask) | (noise[i]! & ~mask & 0xff);
        });
        const general = parseAssetIdentifier(`[${v6text(base)}/${p}]`);
        const inside = parseAssetIdentifier(`[${v6text(specific)}/${q}]`);
        assert.ok(isMoreGeneral(general, inside), `${general.text} should cover ${inside.text}`);
        assert.ok(isMoreGeneral(general, parseAssetIdentifier(`[${v6text(specific)}]`)), 'isMoreGeneral(general, parseAssetIdentifier(`[${v6text(specific)}]`))');
        // One bit flipped inside the prefix (below the fixed top 3 bits): no longer covered.
        if (p > 3) {
          const bit = 3 + (flip % (p - 3));
          const outside = Uint8Array.from(specific);
          outside[bit >> 3] = outside[bit >> 3]! ^ (0x80 >> (bit & 7));
          assert.ok(!isMoreGeneral(general, parseAssetIdentifier(`[${v6text(outside)}/${q}]`)), '!isMoreGeneral(general, parseAssetIdentifier(`[${v6text(outside)}/${q}]`))');
        }
        // A wider prefix is never covered by a narrower one.
        if (q > p) assert.ok(!isMoreGeneral(inside, general), '!isMoreGeneral(inside, general)');
      }),
      { numRuns: 300 },
    );
  });

  it('IPv4 [a.b.c.d/p] and its IPv4-mapped IPv6 form [::ffff:a.b.c.d/96+p] are equal in the order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 223 }).filter((a) => a !== 127), fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 0, max: 32 }), (a, b, c, d, p) => {
        const v4 = parseAssetIdentifier(`[${a}.${b}.${c}.${d}/${p}]`);
        const mapped = parseAssetIdentifier(`[::ffff:${a}.${b}.${c}.${d}/${96 + p}]`);
        assert.ok(isMoreGeneral(v4, mapped) && isMoreGeneral(mapped, v4), 'isMoreGeneral(v4, mapped) && isMoreGeneral(mapped, v4)');
      }),
    );
  });

  it('domains and addresses are incomparable, both ways', () => {
    fc.assert(
      fc.property(domainText(labels()), addressText, (d, a) => {
        const dom = parseAssetIdentifier(d);
        const addr = parseAssetIdentifier(a);
        assert.ok(!isMoreGeneral(dom, addr) && !isMoreGeneral(addr, dom), '!isMoreGeneral(dom, addr) && !isMoreGeneral(addr, dom)');
      }),
    );
  });

  it('loopback, unspecified and multicast addresses are never assets, in any notation', () => {
    const special = fc.oneof(
      fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map(([b, c, d]) => `127.${b}.${c}.${d}`),
      fc.tuple(fc.integer({ min: 224, max: 239 }), fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c, d]) => `${a}.${b}.${c}.${d}`),
      fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map(([b, c, d]) => `0.${b}.${c}.${d}`),
    );
    fc.assert(
      fc.property(special, fc.boolean(), (v4, mapped) => {
        const text = mapped ? `[::ffff:${v4}]` : `[${v4}]`;
        assert.throws(() => parseAssetIdentifier(text), (e: unknown) => e instanceof EmblemError && e.code === 'IDENTIFIER_INVALID');
      }),
    );
    for (const t of ['[::1]', '[::]', '[ff02::1]']) assert.throws(() => parseAssetIdentifier(t), EmblemError);
  });
});

// ---- parsers on arbitrary input -------------------------------------------------------------------------------

const assetAlphabet = fc.string({ unit: fc.constantFrom(...'[]:./*-_0123456789abcdefABCDEFxX% ') , maxLength: 60 });
const anyString = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 80 }));

describe('property: parsers throw only EmblemError on arbitrary input', () => {
  it('parseAssetIdentifier (strings, address-like strings, non-strings)', () => {
    fc.assert(fc.property(fc.oneof(anyString, assetAlphabet, fc.anything()), (input) => onlyEmblemErrors(() => parseAssetIdentifier(input))), { numRuns: 300 });
  });

  it('parseAssetIdentifier: whatever parses re-parses to the same identifier kind and order position', () => {
    fc.assert(
      fc.property(assetAlphabet, (text) => {
        let a: AssetIdentifier;
        try {
          a = parseAssetIdentifier(text);
        } catch {
          return;
        }
        const again = parseAssetIdentifier(a.text);
        assert.ok(isMoreGeneral(a, again) && isMoreGeneral(again, a), 'isMoreGeneral(a, again) && isMoreGeneral(again, a)');
      }),
      { numRuns: 300 },
    );
  });

  it('parseOrganizationIdentifier', () => {
    fc.assert(fc.property(fc.oneof(anyString, anyString.map((s) => `https://${s}`), fc.anything()), (input) => onlyEmblemErrors(() => parseOrganizationIdentifier(input))));
  });

  it('parsePublicJwk (arbitrary JSON values and near-JWKs)', () => {
    const nearJwk = fc.record(
      { kty: fc.constantFrom('EC', 'OKP', 'RSA', 1), crv: fc.constantFrom('P-256', 'P-521', 'Ed25519', 'X'), x: fc.oneof(fc.string(), fc.constant(E256.publicKey.jwk.x)), y: fc.oneof(fc.string(), fc.constant(E256.publicKey.jwk.y)), alg: fc.constantFrom('ES256', 'ES512', 'none', undefined) },
      { requiredKeys: [] },
    );
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), nearJwk), (input) => onlyEmblemErrors(() => parsePublicJwk(input))));
  });

  it('parseJwsToken (arbitrary strings)', () => {
    fc.assert(fc.property(anyString, (text) => onlyEmblemErrors(() => parseJwsToken(text))), { numRuns: 300 });
  });

  it('parseJwsToken (well-encoded tokens with random headers and claims)', () => {
    const header = fc.record(
      {
        alg: fc.constantFrom('ES256', 'ES512', 'EdDSA', 'none', 'HS256', 7),
        cty: fc.constantFrom('adem-emb', 'adem-end', 'ADEM-EMB', 'x'),
        kid: fc.oneof(fc.constant(E256.publicKey.jwsKid), fc.string()),
        jwk: fc.oneof(fc.constant(E256.publicKey.jwk), fc.constant(E512.publicKey.jwk), fc.jsonValue()),
        typ: fc.constantFrom('JWT', 'jwt', 'x', 3),
        crit: fc.array(fc.string()),
      },
      { requiredKeys: ['alg', 'cty'] },
    );
    const claimValue = fc.oneof(fc.jsonValue(), fc.constantFrom('v1', 'https://org.example', ['example.org'], ['[2001:db8::1]'], NOW_S, { prp: ['protective'] }, { prp: ['x'], dst: ['dns'], assets: ['*'], wnd: -1 }));
    const claims = fc.dictionary(fc.constantFrom('ver', 'iat', 'nbf', 'exp', 'iss', 'sub', 'assets', 'bearers', 'ass', 'emb', 'key', 'end', 'log', 'aud', 'jti', 'x'), claimValue);
    fc.assert(
      fc.property(header, claims, fc.uint8Array({ maxLength: 140 }), (h, c, sig) => onlyEmblemErrors(() => parseJwsToken(`${b64json(h)}.${b64json(c)}.${base64urlEncode(sig)}`))),
      { numRuns: 300 },
    );
  });

  it('parseCwtToken (arbitrary bytes)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => onlyEmblemErrors(() => parseCwtToken(bytes))), { numRuns: 300 });
  });

  it('parseCwtToken (well-formed CBOR with random headers and claims)', () => {
    const cborValue = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.integer({ min: -100, max: 2 ** 31 - 1 }),
        fc.constant(2 ** 40),
        fc.double({ noNaN: false }),
        fc.string({ maxLength: 20 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.array(fc.tuple(fc.oneof(fc.integer({ min: -5, max: 20 }), fc.string({ maxLength: 6 })), tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
      ),
    })).value;
    const label = fc.constantFrom<unknown>(1, 2, 3, 4, 5, 6, 7, 16, 33, 'ver', 'prp', 'assets', 'key', 'end', 'log', 'emb', 'iss', 'x');
    const someMap = fc.array(fc.tuple(label, fc.oneof(cborValue, fc.constantFrom<unknown>(-7, -36, 1, 31, 'application/adem', E256.publicKey.coseKid, ['example.org'], true, ORG))), { maxLength: 9 }).map((e) => new Map(e));
    const tags = fc.constantFrom([61, 18], [18], [61], [], [98], [18, 61]);
    fc.assert(
      fc.property(someMap, someMap, fc.oneof(fc.constant(new Map()), someMap), fc.uint8Array({ maxLength: 140 }), tags, (h, c, u, sig, ts) => {
        let item: unknown = [cborEncode(h), u, cborEncode(c), sig];
        for (const t of [...ts].reverse()) item = new Tagged(t, item);
        onlyEmblemErrors(() => parseCwtToken(cborEncode(item)));
      }),
      { numRuns: 300 },
    );
  });

  it('parseMaterialText never throws, and bounds its errors', () => {
    const line = fc.oneof(anyString, fc.constantFrom('adem-token=', 'adem-key=', 'adem-emb-s0-p1=', '"adem-token=" "x"', '-----BEGIN PUBLIC KEY-----', '-----END PUBLIC KEY-----', '{', 'a.b.c', 'd83d', 'a0'));
    fc.assert(
      fc.property(fc.array(fc.oneof(line, line.map((l) => `adem-token=${l}`), line.map((l) => `"${l}"`)), { maxLength: 30 }), (lines) => {
        const parsed = parseMaterialText(lines.join('\n'));
        assert.ok(parsed.errors.length <= Limits.maxReportedErrors + 1, 'parsed.errors.length <= Limits.maxReportedErrors + 1');
        for (const e of parsed.errors) assert.equal(typeof e.code, 'string');
      }),
      { numRuns: 300 },
    );
  });

  it('parseAdemTxtValue never throws; non-null results are ADEM records with a value', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, anyString.map((s) => `adem${s}`), anyString.map((s) => `adem-token-${s}`)), (record) => {
        const v = parseAdemTxtValue(record);
        if (v !== null) {
          assert.ok(record.startsWith('adem'), 'record.startsWith(\'adem\')');
          assert.ok(v.value.length > 0 && record.endsWith(v.value), 'v.value.length > 0 && record.endsWith(v.value)');
          assert.ok(v.type === 'token' || v.type === 'key', 'v.type === \'token\' || v.type === \'key\'');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('joinTxtPresentation throws only EmblemError', () => {
    fc.assert(fc.property(fc.oneof(anyString, anyString.map((s) => `"${s}`), fc.string({ unit: fc.constantFrom('"', '\\', ' ', 'a', '1', '\t'), maxLength: 30 })), (line) => onlyEmblemErrors(() => joinTxtPresentation(line))), { numRuns: 300 });
  });

  it('joinTxtPresentation undoes dig-style quoting of any split of a string', () => {
    const quote = (s: string) =>
      `"${[...s].map((c) => {
        const code = c.charCodeAt(0);
        if (c === '"' || c === '\\') return `\\${c}`;
        if (code < 0x20 || code === 0x7f) return `\\${String(code).padStart(3, '0')}`;
        return c;
      }).join('')}"`;
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary-ascii', maxLength: 40 }), { minLength: 1, maxLength: 5 }), (chunks) => {
        assert.equal(joinTxtPresentation(chunks.map(quote).join(' ')), chunks.join(''));
      }),
    );
  });

  it('base64url / base64 / base32 / hex decoders throw only EmblemError', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, fc.string({ unit: fc.constantFrom(...'ABCabc0189+/-_= \n'), maxLength: 40 })), (text) => {
        onlyEmblemErrors(() => base64urlDecode(text));
        onlyEmblemErrors(() => base64Decode(text));
        onlyEmblemErrors(() => base32LowerNoPadDecode(text));
        onlyEmblemErrors(() => hexDecode(text));
      }),
      { numRuns: 300 },
    );
  });
});

// ---- encodings ------------------------------------------------------------------------------------------------

describe('property: encode -> decode round trips', () => {
  it('base64url', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => assert.deepEqual(base64urlDecode(base64urlEncode(b)), b)));
  });
  it('base64 (standard, padded)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => assert.deepEqual(base64Decode(base64Encode(b)), b)));
  });
  it('base64: agrees with Node\'s encoder', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      assert.equal(base64Encode(b), Buffer.from(b).toString('base64'));
      assert.equal(base64urlEncode(b), Buffer.from(b).toString('base64url'));
    }));
  });
  it('base32 (lower case, unpadded; decoding is case-insensitive)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const text = base32LowerNoPad(b);
      assert.match(text, /^[a-z2-7]*$/);
      assert.deepEqual(base32LowerNoPadDecode(text), b);
      assert.deepEqual(base32LowerNoPadDecode(text.toUpperCase()), b);
    }));
  });
  it('hex (either case, white space allowed)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (b, upper) => {
      const text = hexEncode(b, upper);
      assert.deepEqual(hexDecode(text), b);
      assert.deepEqual(hexDecode(text.replace(/(..)/g, '$1 \n')), b);
    }));
  });
  it('base64url decoding is canonical: any accepted text re-encodes to itself', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), maxLength: 30 }), (text) => {
      let bytes: Uint8Array;
      try {
        bytes = base64urlDecode(text);
      } catch {
        return;
      }
      assert.equal(base64urlEncode(bytes), text);
    }), { numRuns: 300 });
  });
});

// ---- signed tokens --------------------------------------------------------------------------------------------

const loneSpec = emblemSpec({ iss: undefined, assets: ['example.org', '[2001:db8::1]'] });
const jws512 = await signJws('emblem', loneSpec, E512, { embedKey: true });
const jws256 = await signJws('emblem', loneSpec, E256);
const cwt256 = await signCwt('emblem', loneSpec, E256);

describe('property: mutating a signed token never yields a valid result', () => {
  const JWS_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';

  it('controls: the unmutated tokens are valid', async () => {
    assert.deepEqual((await verify([jwsItem(jws512)])).result, ['SIGNED-UNTRUSTED']);
    assert.deepEqual((await verify([jwsItem(jws256), ...keyItems(E256)])).result, ['SIGNED-UNTRUSTED']);
    assert.deepEqual((await verify([cwtItem(cwt256), ...keyItems(E256)])).result, ['SIGNED-UNTRUSTED']);
  });

  for (const [name, token, keys] of [['ES512 JWS with embedded jwk', jws512, []], ['ES256 JWS with kid', jws256, [E256]]] as const) {
    it(`${name}: any one character replaced -> INVALID or UNSIGNED`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(token.length - 1), fc.constantFrom(...JWS_CHARS), async (pos, ch) => {
          fc.pre(token[pos] !== ch);
          const mutated = token.slice(0, pos) + ch + token.slice(pos + 1);
          const report = await verify([jwsItem(mutated), ...keyItems(...keys)]);
          assert.ok(isFailure(report), `mutation at ${pos} (${token[pos]} -> ${ch}) gave ${report.result.join(', ')}`);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('ES256 CWT: any one byte changed -> INVALID or UNSIGNED', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(cwt256.length - 1), fc.integer({ min: 1, max: 255 }), async (pos, delta) => {
        const mutated = Uint8Array.from(cwt256);
        mutated[pos] = (mutated[pos]! + delta) & 0xff;
        const report = await verify([cwtItem(mutated), ...keyItems(E256)]);
        assert.ok(isFailure(report), `mutation at ${pos} (+${delta}) gave ${report.result.join(', ')}`);
      }),
      { numRuns: 200 },
    );
  });

  it('CWT: removing or appending a byte -> INVALID', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(cwt256.length - 1), fc.nat(255), async (pos, extra) => {
        const removed = Uint8Array.from([...cwt256.subarray(0, pos), ...cwt256.subarray(pos + 1)]);
        const appended = Uint8Array.from([...cwt256, extra]);
        for (const m of [removed, appended]) assert.ok(isFailure(await verify([cwtItem(m), ...keyItems(E256)])), 'isFailure(await verify([cwtItem(m), ...keyItems(E256)]))');
      }),
      { numRuns: 60 },
    );
  });
});

describe('property: sign -> verify round trip in both eras', () => {
  const roundTripAsset = fc.oneof(domainText(labels()), addressText);
  const assetsArb = fc.uniqueArray(roundTripAsset, { minLength: 1, maxLength: 6 });
  const jwsPurposes = fc.subarray<PurposeName>(['protective', 'indicative']);
  const cwtPurposes = fc.subarray<PurposeName>(['protective', 'indicative', 'dangerous-forces', 'civil-defence', 'cultural-property'], { minLength: 1 });
  const lifetime = fc.integer({ min: 60, max: 400 * 86_400 });

  it('JWS: a lone emblem verifies to SIGNED-UNTRUSTED with its assets and purposes exactly as signed', async () => {
    await fc.assert(
      fc.asyncProperty(assetsArb, jwsPurposes, lifetime, fc.boolean(), async (assets, purposes, life, embed) => {
        const token = await signJws('emblem', emblemSpec({ iss: undefined, assets, purposes, iat: NOW_S - 10, nbf: NOW_S - 10, exp: NOW_S - 10 + life }), E256, { embedKey: embed });
        const report = await verify([jwsItem(token), ...(embed ? [] : keyItems(E256))]);
        assert.deepEqual(report.result, ['SIGNED-UNTRUSTED'], JSON.stringify(report.errors));
        assert.deepEqual(report.protected, assets);
        assert.deepEqual(report.emblem?.purposes, ['protective', 'indicative'].filter((p) => purposes.includes(p as PurposeName)));
        assert.deepEqual(report.errors, []);
      }),
      { numRuns: 60 },
    );
  });

  it('CWT: a lone emblem verifies to SIGNED-UNTRUSTED with its assets and purposes exactly as signed', async () => {
    await fc.assert(
      fc.asyncProperty(assetsArb, cwtPurposes, lifetime, async (assets, purposes, life) => {
        const bytes = await signCwt('emblem', emblemSpec({ iss: undefined, assets, purposes, iat: NOW_S - 10, nbf: NOW_S - 10, exp: NOW_S - 10 + life }), E256);
        const report = await verify([cwtItem(bytes), ...keyItems(E256)]);
        assert.deepEqual(report.result, ['SIGNED-UNTRUSTED'], JSON.stringify(report.errors));
        assert.deepEqual(report.protected, assets);
        assert.deepEqual([...report.emblem!.purposes].sort(), [...purposes].sort());
      }),
      { numRuns: 60 },
    );
  });

  it('both eras: an organisation chain with an external endorsement gives the same levels (ENDORSED)', async () => {
    const k = { emblem: E256, root: R256, authority: A256 };
    await fc.assert(
      fc.asyncProperty(assetsArb, jwsPurposes.filter((p) => p.length > 0), async (assets, purposes) => {
        const o = { emblem: { assets, purposes }, root: { purposes: ['protective', 'indicative'] as PurposeName[] }, external: { purposes } };
        const jws = await verify(await jwsOrgChain(k, o));
        const cwt = await verify(await cwtOrgChain(k, o));
        assert.deepEqual(jws.result, ['ENDORSED-UNTRUSTED'], JSON.stringify(jws.errors));
        assert.deepEqual(cwt.result, jws.result, JSON.stringify(cwt.errors));
        assert.deepEqual(cwt.levels, jws.levels);
        assert.deepEqual(cwt.protected, assets);
        assert.deepEqual(jws.endorsedBy, cwt.endorsedBy);
      }),
      { numRuns: 30 },
    );
  });

  it('JWS: an asset constraint generated to cover the emblem is satisfied; one that misses an asset is not', async () => {
    const k = { emblem: E256, root: R256, authority: A256 };
    await fc.assert(
      fc.asyncProperty(labels(1), fc.array(labels(0), { minLength: 1, maxLength: 4 }), labels(1), async (zone, subs, elsewhere) => {
        const z = zone.join('.');
        const assets = [...new Set(subs.map((s) => [...s, ...zone].join('.')))];
        const covered = await verify(await jwsOrgChain(k, { emblem: { assets }, root: { assets: [`*.${z}`] } }));
        assert.deepEqual(covered.result, ['ORGANIZATIONAL-UNTRUSTED'], JSON.stringify(covered.errors));
        const e = elsewhere.join('.');
        fc.pre(e !== z && !e.endsWith(`.${z}`));
        const missed = await verify(await jwsOrgChain(k, { emblem: { assets: [...assets, e] }, root: { assets: [`*.${z}`] } }));
        assert.deepEqual(missed.result, ['INVALID']);
        assert.ok(missed.errors.some((x) => x.code === 'CONSTRAINT_VIOLATED'), 'missed.errors.some((x) => x.code === \'CONSTRAINT_VIOLATED\')');
      }),
      { numRuns: 30 },
    );
  });
});

// A self-check that the generators produce what they claim (cheap, guards against silently vacuous properties).
describe('generators', () => {
  it('relatedAsset produces related pairs often (about one in ten)', () => {
    const samples = fc.sample(fc.tuple(relatedAsset, relatedAsset), { seed: SEED, numRuns: 1000 });
    const related = samples.filter(([a, b]) => a.text !== b.text && isMoreGeneral(a, b)).length;
    assert.ok(related >= 50, `only ${related} of 1000 pairs are related`);
  });
});
