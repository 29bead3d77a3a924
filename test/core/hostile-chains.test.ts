/**
 * Hostile input, endorsement chains and constraints (issue 2, acceptance 5): constraint violations of every kind
 * (internal -> INVALID, external -> only that endorsement dropped), missing emblem fields, cycles, branches, stray
 * endorsements, end=false, over-long chains, several emblems, mixed eras.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Limits } from '../../src/core/limits.js';
import type { Material } from '../../src/core/material/material.js';
import { signCwt, signJws, type EmblemSpec, type EndorsementSpec, type SigningKey } from '../../src/core/tokens/sign.js';
import type { Era } from '../../src/core/tokens/token.js';
import {
  assertHasCode,
  AUTHORITY,
  codes,
  craftJws,
  CWT_LOG,
  cwtItem,
  cwtOrgChain,
  DAY,
  emblemSpec,
  endorsementSpec,
  jwsEmblemPayload,
  jwsItem,
  JWS_LOG,
  jwsOrgChain,
  keyItems,
  makeKeys,
  NOW_S,
  ORG,
  OTHER_AUTHORITY,
  validity,
  verify,
} from '../helpers/tokens.js';

const keys = await makeKeys(Limits.maxChainDepth + 3, 'ES256');
const [E, R, A, B, C, U] = keys as [SigningKey, SigningKey, SigningKey, SigningKey, SigningKey, SigningKey];
const [A2] = await makeKeys(1, 'ES256');
const chainKeys = { emblem: E, root: R, authority: A };

const INVALID = ['INVALID'];
const ORGANIZATIONAL = ['ORGANIZATIONAL-UNTRUSTED'];

async function emblemToken(era: Era, spec: Partial<EmblemSpec>, key: SigningKey = E): Promise<Material> {
  const s = emblemSpec(spec);
  return era === 'jws' ? jwsItem(await signJws('emblem', s, key)) : cwtItem(await signCwt('emblem', s, key));
}

/** `signer` endorses `endorsed` (same organisation unless overridden). */
async function endorse(era: Era, signer: SigningKey, endorsed: SigningKey, o: Partial<EndorsementSpec> = {}): Promise<Material> {
  const s = endorsementSpec(endorsed, o);
  return era === 'jws' ? jwsItem(await signJws('endorsement', s, signer)) : cwtItem(await signCwt('endorsement', s, signer));
}

const logFor = (era: Era) => (era === 'jws' ? JWS_LOG : CWT_LOG);
const chainFor = (era: Era) => (era === 'jws' ? jwsOrgChain : cwtOrgChain);

function assertConstraintInvalid(report: Awaited<ReturnType<typeof verify>>): void {
  assert.deepEqual(report.result, INVALID, JSON.stringify(report.errors));
  assert.deepEqual(report.levels, []);
  assert.deepEqual(report.protected, []);
  assert.ok(codes(report).includes('CONSTRAINT_VIOLATED'), JSON.stringify(report.errors));
}

function assertExternalDropped(report: Awaited<ReturnType<typeof verify>>): void {
  assert.deepEqual(report.result, ORGANIZATIONAL, JSON.stringify(report.errors));
  assert.deepEqual(report.levels, ['SIGNED', 'ORGANIZATIONAL']);
  assert.deepEqual(report.endorsedBy, []);
  assert.ok(codes(report).includes('CONSTRAINT_VIOLATED'), JSON.stringify(report.errors));
}

/** Each JWS constraint kind: [name, emblem spec, endorsement constraint]. */
const JWS_VIOLATIONS: Array<[string, Partial<EmblemSpec>, Partial<EndorsementSpec>]> = [
  ['prp: indicative emblem, only protective permitted', { purposes: ['indicative'] }, { purposes: ['protective'] }],
  ['prp: protective+indicative emblem, only indicative permitted', { purposes: ['protective', 'indicative'] }, { purposes: ['indicative'] }],
  ['prp: any purpose against an empty permitted set', { purposes: ['protective'] }, { purposes: [] }],
  ['dst: dns+udp emblem, only dns permitted', { distribution: ['dns', 'udp'] }, { distribution: ['dns'] }],
  ['dst: dns emblem against an empty permitted set', { distribution: ['dns'] }, { distribution: [] }],
  ['assets: unrelated domain', { assets: ['other.example'] }, { assets: ['example.org'] }],
  ['assets: a plain domain does not cover its wildcard', { assets: ['*.example.org'] }, { assets: ['example.org'] }],
  ['assets: a plain domain does not cover its subdomain', { assets: ['www.example.org'] }, { assets: ['example.org'] }],
  ['assets: *.x does not cover a sibling zone', { assets: ['www.example.com'] }, { assets: ['*.example.org'] }],
  ['assets: *.x does not cover a name merely ending in x', { assets: ['badexample.org'] }, { assets: ['*.example.org'] }],
  ['assets: *.a.x does not cover x', { assets: ['example.org'] }, { assets: ['*.www.example.org'] }],
  ['assets: one of two emblem assets uncovered', { assets: ['a.example.org', 'evil.example'] }, { assets: ['*.example.org'] }],
  ['assets: IPv6 address outside the permitted prefix', { assets: ['[2001:db8:1::1]'] }, { assets: ['[2001:db8:2::/48]'] }],
  ['assets: emblem prefix wider than the permitted prefix', { assets: ['[2001:db8::/32]'] }, { assets: ['[2001:db8::/48]'] }],
  ['assets: IPv4 address outside the permitted IPv4 prefix', { assets: ['[192.0.2.1]'] }, { assets: ['[198.51.100.0/24]'] }],
  ['assets: "*" covers every domain but no address', { assets: ['[2001:db8::1]'] }, { assets: ['*'] }],
  ['assets: an address prefix covers no domain', { assets: ['example.org'] }, { assets: ['[2001:db8::/32]'] }],
  ['assets: an empty permitted list covers nothing', { assets: ['example.org'] }, { assets: [] }],
  ['wnd: 30-day emblem, 7-day window', validity(30 * DAY), { window: 7 * DAY }],
  ['wnd: one second over the window', validity(DAY + 1), { window: DAY }],
];

/** The same kinds, satisfied: the control that each violation above is exactly the constraint's doing. */
const JWS_SATISFIED: Array<[string, Partial<EmblemSpec>, Partial<EndorsementSpec>]> = [
  ['prp subset', { purposes: ['protective'] }, { purposes: ['protective', 'indicative'] }],
  ['dst subset', { distribution: ['dns'] }, { distribution: ['dns', 'udp'] }],
  ['*.x covers x, its subdomains and wildcards below it', { assets: ['example.org', 'www.example.org', '*.deep.sub.example.org'] }, { assets: ['*.example.org'] }],
  ['"*" covers any domain', { assets: ['anything.example', '*.else.example'] }, { assets: ['*'] }],
  ['domain match is case-insensitive', { assets: ['WWW.Example.ORG'] }, { assets: ['www.example.org'] }],
  ['IPv6 prefix covers an address and a narrower prefix', { assets: ['[2001:db8:1::1]', '[2001:db8:1::/48]'] }, { assets: ['[2001:db8::/32]'] }],
  ['IPv4 prefix covers an address, also written IPv4-mapped', { assets: ['[192.0.2.7]', '[::ffff:192.0.2.8]'] }, { assets: ['[192.0.2.0/24]'] }],
  ['wnd equal to the lifetime', validity(7 * DAY), { window: 7 * DAY }],
];

describe('hostile: JWS constraint violations on internal endorsements -> INVALID (CONSTRAINT_VIOLATED)', () => {
  for (const [name, emblem, constraint] of JWS_VIOLATIONS) {
    it(name, async () => {
      assertConstraintInvalid(await verify(await jwsOrgChain(chainKeys, { emblem, root: constraint })));
    });
  }
  it('a violation two links up the chain (intermediate endorsement) is also INVALID', async () => {
    const set = [
      await emblemToken('jws', { purposes: ['indicative'] }),
      await endorse('jws', A, E, { end: false }),
      await endorse('jws', R, A, { purposes: ['protective'], log: JWS_LOG }),
      ...keyItems(E, A, R),
    ];
    assertConstraintInvalid(await verify(set));
  });
  it('internal constraints are checked without an issuer too (chain of iss-less endorsements)', async () => {
    const set = [
      await emblemToken('jws', { iss: undefined, assets: ['other.example'] }),
      await endorse('jws', R, E, { iss: undefined, sub: undefined, assets: ['example.org'] }),
      ...keyItems(E, R),
    ];
    assertConstraintInvalid(await verify(set));
  });
});

describe('hostile: JWS constraint violations on an external endorsement only drop it (ORGANIZATIONAL, not INVALID)', () => {
  for (const [name, emblem, constraint] of JWS_VIOLATIONS) {
    it(name, async () => {
      assertExternalDropped(await verify(await jwsOrgChain(chainKeys, { emblem, external: constraint })));
    });
  }
  it('one violating and one satisfied external endorsement: ENDORSED by the satisfied one only', async () => {
    const set = await jwsOrgChain(chainKeys, { emblem: { purposes: ['indicative'] }, external: { purposes: ['protective'] } });
    const good = await endorse('jws', A2!, R, { iss: OTHER_AUTHORITY, sub: ORG, log: JWS_LOG, purposes: ['indicative'] });
    const report = await verify([...set, good, ...keyItems(A2!)]);
    assert.deepEqual(report.result, ['ENDORSED-UNTRUSTED']);
    assert.deepEqual(report.endorsedBy, [OTHER_AUTHORITY]);
    assertHasCode(report, 'CONSTRAINT_VIOLATED');
  });
});

describe('constraints satisfied (controls) -> valid', () => {
  for (const [name, emblem, constraint] of JWS_SATISFIED) {
    it(`internal: ${name}`, async () => {
      const report = await verify(await jwsOrgChain(chainKeys, { emblem, root: constraint }));
      assert.deepEqual(report.result, ORGANIZATIONAL, JSON.stringify(report.errors));
    });
    it(`external: ${name}`, async () => {
      const report = await verify(await jwsOrgChain(chainKeys, { emblem, external: constraint }));
      assert.deepEqual(report.result, ['ENDORSED-UNTRUSTED'], JSON.stringify(report.errors));
      assert.deepEqual(report.endorsedBy, [AUTHORITY]);
    });
  }
});

describe('hostile: CWT purpose constraints (prp bitmap)', () => {
  const cases: Array<[string, Partial<EmblemSpec>, Partial<EndorsementSpec>]> = [
    ['indicative emblem, protective permitted', { purposes: ['indicative'] }, { purposes: ['protective'] }],
    ['cultural-property emblem, protective+indicative permitted', { purposes: ['cultural-property'] }, { purposes: ['protective', 'indicative'] }],
    ['two purposes, one permitted', { purposes: ['protective', 'civil-defence'] }, { purposes: ['civil-defence'] }],
  ];
  for (const [name, emblem, constraint] of cases) {
    it(`internal: ${name} -> INVALID (CONSTRAINT_VIOLATED)`, async () => {
      assertConstraintInvalid(await verify(await cwtOrgChain(chainKeys, { emblem, root: constraint })));
    });
    it(`external: ${name} -> dropped (ORGANIZATIONAL)`, async () => {
      assertExternalDropped(await verify(await cwtOrgChain(chainKeys, { emblem, external: constraint })));
    });
  }
  it('control: subset permitted -> ENDORSED', async () => {
    const report = await verify(await cwtOrgChain(chainKeys, { emblem: { purposes: ['civil-defence'] }, root: { purposes: ['civil-defence', 'protective'] }, external: { purposes: ['civil-defence'] } }));
    assert.deepEqual(report.result, ['ENDORSED-UNTRUSTED']);
  });
});

describe('hostile: missing emblem fields are the empty set (no crash, unlike GO-JWT)', () => {
  // The core signer always writes emb.prp, so these emblems are hand-crafted (and properly signed by E).
  for (const [name, emb, constraint] of [
    ['no emb.prp vs an endorsement constraining prp', { dst: ['dns'] }, { purposes: ['protective'] }],
    ['no emb.prp vs an empty prp constraint', {}, { purposes: [] }],
    ['no emb.dst vs an endorsement constraining dst', { prp: ['protective'] }, { distribution: ['dns'] }],
    ['empty emb vs prp and dst constraints', {}, { purposes: ['indicative'], distribution: [] }],
  ] as Array<[string, Record<string, unknown>, Partial<EndorsementSpec>]>) {
    it(`${name} -> valid`, async () => {
      const emblem = await craftJws({ alg: 'ES256', cty: 'adem-emb', kid: E.publicKey.jwsKid }, jwsEmblemPayload({ emb }), E);
      const internal = await verify([jwsItem(emblem), ...(await jwsOrgChain(chainKeys, { root: constraint })).slice(1)]);
      assert.deepEqual(internal.result, ORGANIZATIONAL, JSON.stringify(internal.errors));
      const external = await verify([jwsItem(emblem), ...(await jwsOrgChain(chainKeys, { external: constraint })).slice(1)]);
      assert.deepEqual(external.result, ['ENDORSED-UNTRUSTED'], JSON.stringify(external.errors));
      assert.deepEqual(external.emblem?.purposes, emb.prp ?? []);
    });
  }
  it('an emblem without "emb" at all is malformed (CORE-01: emb required) -> CLAIM_INVALID', async () => {
    const emblem = await craftJws({ alg: 'ES256', cty: 'adem-emb', kid: E.publicKey.jwsKid }, jwsEmblemPayload({ emb: undefined }), E);
    const report = await verify([jwsItem(emblem), ...keyItems(E)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'CLAIM_INVALID');
  });
});

for (const era of ['jws', 'cwt'] as const) {
  describe(`hostile (${era}): chain shape`, () => {
    it('A endorses B, B endorses A (above the emblem key) -> CHAIN_CYCLE', async () => {
      const set = [
        await emblemToken(era, {}),
        await endorse(era, A, E),
        await endorse(era, B, A, { log: logFor(era) }),
        await endorse(era, A, B, { log: logFor(era) }),
        ...keyItems(E, A, B),
      ];
      const report = await verify(set);
      assert.deepEqual(report.result, INVALID);
      assert.ok(codes(report).includes('CHAIN_CYCLE'), JSON.stringify(report.errors));
    });

    it('a self-endorsing root -> CHAIN_CYCLE', async () => {
      const set = [
        await emblemToken(era, {}),
        await endorse(era, R, E, { log: logFor(era) }),
        await endorse(era, R, R, { log: logFor(era) }),
        ...keyItems(E, R),
      ];
      const report = await verify(set);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'CHAIN_CYCLE');
    });

    it('the emblem key endorsing itself -> CHAIN_CYCLE', async () => {
      const set = [await emblemToken(era, {}), await endorse(era, E, E, { log: logFor(era) }), ...keyItems(E)];
      const report = await verify(set);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'CHAIN_CYCLE');
    });

    it('a cycle in iss-less endorsements (no commitment involved) -> CHAIN_CYCLE', async () => {
      const noIss = { iss: undefined, sub: undefined };
      const set = [
        await emblemToken(era, { iss: undefined }),
        await endorse(era, A, E, noIss),
        await endorse(era, B, A, noIss),
        await endorse(era, C, B, noIss),
        await endorse(era, A, C, noIss),
        ...keyItems(E, A, B, C),
      ];
      const report = await verify(set);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'CHAIN_CYCLE');
    });

    it('two endorsements of the emblem key -> CHAIN_BRANCHED', async () => {
      const set = [
        await emblemToken(era, {}),
        await endorse(era, A, E, { log: logFor(era) }),
        await endorse(era, B, E, { log: logFor(era) }),
        ...keyItems(E, A, B),
      ];
      const report = await verify(set);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'CHAIN_BRANCHED');
    });

    it('two endorsements of the same intermediate key -> CHAIN_BRANCHED', async () => {
      const set = [
        await emblemToken(era, {}),
        await endorse(era, A, E),
        await endorse(era, B, A, { log: logFor(era) }),
        await endorse(era, C, A, { log: logFor(era) }),
        ...keyItems(E, A, B, C),
      ];
      const report = await verify(set);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'CHAIN_BRANCHED');
    });

    it('the same key endorsing the emblem key twice (two distinct tokens) -> CHAIN_BRANCHED', async () => {
      const set = [
        await emblemToken(era, {}),
        await endorse(era, R, E, { log: logFor(era) }),
        await endorse(era, R, E, { log: logFor(era), ...validity(60 * DAY) }),
        ...keyItems(E, R),
      ];
      const report = await verify(set);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'CHAIN_BRANCHED');
    });

    it('a stray same-issuer endorsement of an unrelated key -> CHAIN_BROKEN', async () => {
      const set = [...(await chainFor(era)(chainKeys)), await endorse(era, B, U), ...keyItems(B, U)];
      const report = await verify(set);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'CHAIN_BROKEN');
    });

    it('a same-issuer endorsement of the emblem key for another subject (sub mismatch) is stray -> CHAIN_BROKEN', async () => {
      const set = [...(await chainFor(era)(chainKeys)), await endorse(era, B, E, { sub: 'https://someone-else.example' }), ...keyItems(B)];
      const report = await verify(set);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'CHAIN_BROKEN');
    });

    it('end=false above the direct endorser -> ENDORSEMENT_NOT_TRANSITIVE', async () => {
      const set = [
        await emblemToken(era, {}),
        await endorse(era, A, E, { end: false }),
        await endorse(era, R, A, { end: false, log: logFor(era) }),
        ...keyItems(E, A, R),
      ];
      const report = await verify(set);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'ENDORSEMENT_NOT_TRANSITIVE');
    });

    it('control: end=false only on the direct endorser is fine -> ORGANIZATIONAL', async () => {
      const set = [
        await emblemToken(era, {}),
        await endorse(era, A, E, { end: false }),
        await endorse(era, R, A, { end: true, log: logFor(era) }),
        ...keyItems(E, A, R),
      ];
      assert.deepEqual((await verify(set)).result, ORGANIZATIONAL);
    });

    it(`a chain of ${Limits.maxChainDepth + 1} endorsements -> LIMIT_EXCEEDED; ${Limits.maxChainDepth} is fine`, async () => {
      const build = async (links: number) => {
        const items = [await emblemToken(era, {}, keys[0]!)];
        for (let i = 0; i < links; i++) {
          items.push(await endorse(era, keys[i + 1]!, keys[i]!, i === links - 1 ? { log: logFor(era) } : {}));
        }
        return [...items, ...keyItems(...keys.slice(0, links + 1))];
      };
      const tooLong = await verify(await build(Limits.maxChainDepth + 1));
      assert.deepEqual(tooLong.result, INVALID);
      assert.ok(codes(tooLong).includes('LIMIT_EXCEEDED'), JSON.stringify(tooLong.errors));
      const longest = await verify(await build(Limits.maxChainDepth));
      assert.deepEqual(longest.result, ORGANIZATIONAL, JSON.stringify(longest.errors));
      assert.equal(longest.emblem?.chain.length, Limits.maxChainDepth + 1);
    });

    it('an emblem with iss but no endorsement by its issuer -> ROOT_LOG_MISSING', async () => {
      const report = await verify([await emblemToken(era, {}), ...keyItems(E)]);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'ROOT_LOG_MISSING');
    });

    it('a root endorsement without "log" -> ROOT_LOG_MISSING', async () => {
      const report = await verify([await emblemToken(era, {}), await endorse(era, R, E), ...keyItems(E, R)]);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'ROOT_LOG_MISSING');
    });

    it('external endorsements that do not qualify are dropped, each with its reason', async () => {
      const base = await chainFor(era)(chainKeys);
      const bad = [
        await endorse(era, A, E, { iss: AUTHORITY, sub: ORG, log: logFor(era) }), // endorses the emblem key, not the root
        await endorse(era, A, R, { iss: AUTHORITY, sub: 'https://someone-else.example', log: logFor(era) }), // wrong sub
        await endorse(era, A, R, { iss: AUTHORITY, sub: ORG, end: false, log: logFor(era) }), // end=false
        await endorse(era, A, R, { iss: AUTHORITY, sub: ORG }), // no log
      ];
      for (const x of bad) {
        const report = await verify([...base, x]);
        assert.deepEqual(report.result, ORGANIZATIONAL, JSON.stringify(report.errors));
        assert.deepEqual(report.endorsedBy, []);
        assert.ok(codes(report).some((c) => c === 'ENDORSEMENT_REJECTED' || c === 'ROOT_LOG_MISSING'), JSON.stringify(report.errors));
      }
    });

    it('two valid emblems in one set -> MULTIPLE_EMBLEMS', async () => {
      const set = [await emblemToken(era, { iss: undefined }), await emblemToken(era, { iss: undefined, assets: ['second.example'] }, A), ...keyItems(E, A)];
      const report = await verify(set);
      assert.deepEqual(report.result, INVALID);
      assert.deepEqual(report.protected, []);
      assertHasCode(report, 'MULTIPLE_EMBLEMS');
    });

    it('two valid emblems by the same key -> MULTIPLE_EMBLEMS', async () => {
      const set = [await emblemToken(era, { iss: undefined }), await emblemToken(era, { iss: undefined, assets: ['second.example'] }), ...keyItems(E)];
      const report = await verify(set);
      assert.deepEqual(report.result, INVALID);
      assertHasCode(report, 'MULTIPLE_EMBLEMS');
    });

    it('a valid emblem next to an expired one counts once (only valid emblems are counted)', async () => {
      const set = [
        await emblemToken(era, { iss: undefined }),
        await emblemToken(era, { iss: undefined, ...validity(DAY, NOW_S - 3 * DAY) }, A),
        ...keyItems(E, A),
      ];
      const report = await verify(set);
      assert.deepEqual(report.result, ['SIGNED-UNTRUSTED']);
      assertHasCode(report, 'TOKEN_EXPIRED');
    });
  });
}

describe('hostile: mixed eras', () => {
  it('a JWS emblem and a CWT emblem in one set -> MIXED_ERAS', async () => {
    const report = await verify([await emblemToken('jws', { iss: undefined }), await emblemToken('cwt', { iss: undefined }), ...keyItems(E)]);
    assert.deepEqual(report.result, INVALID);
    assert.equal(report.era, null);
    assertHasCode(report, 'MIXED_ERAS');
  });
  it('a JWS emblem with a CWT root endorsement -> MIXED_ERAS', async () => {
    const report = await verify([await emblemToken('jws', {}), await endorse('cwt', R, E, { log: CWT_LOG }), ...keyItems(E, R)]);
    assert.deepEqual(report.result, INVALID);
    assertHasCode(report, 'MIXED_ERAS');
  });
});
