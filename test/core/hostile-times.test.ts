/**
 * Hostile times (issue 9 §5): `exp`, `nbf` and `iat` values that are not a usable NumericDate, in both eras.
 * 1e300 used to pass the parser (finite, non-negative) and then crash every report that printed the date
 * (`new Date(1e303).toISOString()` throws "Invalid time value"), so one hostile record next to a genuine set
 * turned `verify` into exit 2 and `check` into `error`. Such a token is TOKEN_MALFORMED and dropped like any
 * malformed token; the genuine set verifies as without it. Signing refuses lifetimes and start times that would
 * produce such a token.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EmblemError } from '../../src/core/errors.js';
import { Limits } from '../../src/core/limits.js';
import type { Material } from '../../src/core/material/material.js';
import { parseCwtToken } from '../../src/core/tokens/cwt.js';
import { parseJwsToken } from '../../src/core/tokens/jws.js';
import { signCwt, signJws, type SigningKey } from '../../src/core/tokens/sign.js';
import type { VerificationReport } from '../../src/core/verify/report.js';
import { runCli, SHARED } from '../helpers/cli.js';
import {
  assertHasCode,
  codes,
  craftCwt,
  craftJws,
  cwtEmblemClaims,
  cwtHeader,
  cwtItem,
  cwtOrgChain,
  emblemSpec,
  hexEncode,
  jwsEmblemPayload,
  jwsItem,
  jwsOrgChain,
  makeKeys,
  validity,
  verify,
} from '../helpers/tokens.js';

const [E, R, A, X] = (await makeKeys(4, 'ES256')) as [SigningKey, SigningKey, SigningKey, SigningKey];

/** One past the largest instant a JS Date holds (8.64e15 ms), in seconds. */
const PAST_DATE_RANGE = 8.64e12 + 1;
/** The first second of the year 10000: one past the bound. */
const YEAR_10000 = 253_402_300_800;

const HUGE_NUMBERS: Array<[string, number]> = [
  ['1e300', 1e300],
  ['-1e300', -1e300],
  ['8.64e12 + 1 s (past the JS Date range)', PAST_DATE_RANGE],
  ['2^53 - 1', Number.MAX_SAFE_INTEGER],
  ['-1', -1],
  ['year 10000', YEAR_10000],
  ['1e300 + a fraction', 1.5e300],
];
const NOT_NUMBERS: Array<[string, unknown]> = [
  ['"1e300" (string)', '1e300'],
  ['"NaN" (string)', 'NaN'],
  ['null', null],
  ['true', true],
  ['[] (array)', []],
];
const CLAIMS = ['exp', 'nbf', 'iat'] as const;
const CWT_LABEL = { exp: 4, nbf: 5, iat: 6 } as const;

function assertMalformed(fn: () => unknown, what: string): void {
  assert.throws(fn, (err: unknown) => err instanceof EmblemError && err.code === 'TOKEN_MALFORMED', `${what}: expected TOKEN_MALFORMED`);
}

/** A JWS emblem (embedded key, no iss: verifies alone to SIGNED-UNTRUSTED) with one claim replaced. */
function jwsWith(claim: string, value: unknown): Promise<string> {
  const payload = jwsEmblemPayload({ [claim]: value });
  delete payload.iss;
  return craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: E.publicKey.jwk }, payload, E);
}

/** A CWT emblem (no iss) with one claim replaced. */
function cwtWith(claim: keyof typeof CWT_LABEL, value: unknown): Promise<Uint8Array> {
  const claims = cwtEmblemClaims([[CWT_LABEL[claim], value]]);
  claims.delete(1);
  return craftCwt({ header: cwtHeader(E), claims, signer: E });
}

/** The JWS payload as raw JSON text, for numbers JSON.stringify cannot write (1e400 parses to Infinity). */
async function jwsWithRawNumber(claim: string, literal: string): Promise<string> {
  const payload = jwsEmblemPayload();
  delete payload.iss;
  const json = JSON.stringify(payload).replace(new RegExp(`"${claim}":[0-9.e+-]+`), `"${claim}":${literal}`);
  assert.ok(json.includes(`"${claim}":${literal}`), 'payload rewritten');
  return craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: E.publicKey.jwk }, Buffer.from(json).toString('base64url'), E);
}

describe('hostile times: the parser rejects unusable NumericDates as TOKEN_MALFORMED', () => {
  for (const claim of CLAIMS) {
    for (const [name, value] of [...HUGE_NUMBERS, ...NOT_NUMBERS]) {
      it(`jws ${claim} = ${name}`, async () => {
        const token = await jwsWith(claim, value);
        assertMalformed(() => parseJwsToken(token), `jws ${claim}=${name}`);
      });
      it(`cwt ${claim} = ${name}`, async () => {
        const bytes = await cwtWith(claim, value);
        assertMalformed(() => parseCwtToken(bytes), `cwt ${claim}=${name}`);
      });
    }
    it(`jws ${claim} = 1e400 in the JSON text (parses to Infinity)`, async () => {
      const token = await jwsWithRawNumber(claim, '1e400');
      assertMalformed(() => parseJwsToken(token), `jws ${claim}=1e400`);
    });
    it(`jws ${claim} = -1e400 in the JSON text (parses to -Infinity)`, async () => {
      const token = await jwsWithRawNumber(claim, '-1e400');
      assertMalformed(() => parseJwsToken(token), `jws ${claim}=-1e400`);
    });
    for (const [name, value] of [['NaN', Number.NaN], ['Infinity', Number.POSITIVE_INFINITY], ['-Infinity', Number.NEGATIVE_INFINITY]] as const) {
      it(`cwt ${claim} = CBOR float ${name}`, async () => {
        const bytes = await cwtWith(claim, value);
        assertMalformed(() => parseCwtToken(bytes), `cwt ${claim}=${name}`);
      });
    }
  }

  it('the bound is 9999-12-31T23:59:59Z: that second parses, the next does not (both eras)', async () => {
    assert.equal(Limits.maxNumericDate, YEAR_10000 - 1);
    assert.equal(new Date(Limits.maxNumericDate * 1000).toISOString(), '9999-12-31T23:59:59.000Z');
    assert.equal(parseJwsToken(await jwsWith('exp', YEAR_10000 - 1)).claims.exp, YEAR_10000 - 1);
    assert.equal(parseCwtToken(await cwtWith('exp', YEAR_10000 - 1)).claims.exp, YEAR_10000 - 1);
    const past = await jwsWith('exp', YEAR_10000 - 0.5);
    assertMalformed(() => parseJwsToken(past), 'jws exp=year 10000 - 0.5 s');
  });

  it('fractional NumericDates stay accepted (RFC 7519 §2 and RFC 8392 §2 allow non-integer values)', async () => {
    const t = validity();
    const jws = parseJwsToken(await jwsWith('exp', t.exp + 0.5));
    assert.equal(jws.claims.exp, t.exp + 0.5);
    const cwt = parseCwtToken(await cwtWith('nbf', t.nbf + 0.25));
    assert.equal(cwt.claims.nbf, t.nbf + 0.25);
    const report = await verify([jwsItem(await jwsWith('iat', t.iat + 0.125))]);
    assert.deepEqual(report.result, ['SIGNED-UNTRUSTED'], JSON.stringify(report.errors));
  });

  it('a missing required date stays CLAIM_INVALID (absent, not malformed)', async () => {
    const payload = jwsEmblemPayload();
    delete payload.exp;
    const token = await craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: E.publicKey.jwk }, payload, E);
    assert.throws(() => parseJwsToken(token), (err: unknown) => err instanceof EmblemError && err.code === 'CLAIM_INVALID', 'missing exp');
  });
});

function summary(r: VerificationReport): Record<string, unknown> {
  return { era: r.era, result: r.result, levels: r.levels, protected: r.protected, issuer: r.issuer, endorsedBy: r.endorsedBy, emblem: r.emblem };
}

describe('hostile times: a genuine ENDORSED set plus one hostile record still verifies', () => {
  const keys = { emblem: E, root: R, authority: A };
  // Hostile records by an unrelated key X, with the same issuer as the set (the worst case: an extra same-issuer
  // token that parsed would branch the chain) and as a second emblem; nbf = 1e300 crashed the report builder.
  const hostileJws = async (o: Record<string, unknown>, cty: 'adem-emb' | 'adem-end') => {
    const payload = cty === 'adem-emb' ? jwsEmblemPayload(o) : { ver: 'v1', iss: 'https://org.example', sub: 'https://org.example', ...validity(), key: E.publicKey.jwsKid, end: true, ...o };
    return jwsItem(await craftJws({ alg: 'ES256', cty, jwk: X.publicKey.jwk }, payload, X));
  };
  const hostileCwt = async (label: number, value: unknown) => cwtItem(await craftCwt({ header: cwtHeader(X), claims: cwtEmblemClaims([[label, value]]), signer: X }));

  const cases: Array<[string, () => Promise<Material>]> = [
    ['jws emblem exp=1e300', () => hostileJws({ exp: 1e300 }, 'adem-emb')],
    ['jws emblem nbf=exp=1e300', () => hostileJws({ nbf: 1e300, exp: 1e300 }, 'adem-emb')],
    ['jws emblem iat=1e300', () => hostileJws({ iat: 1e300 }, 'adem-emb')],
    ['jws endorsement exp=1e300', () => hostileJws({ exp: 1e300 }, 'adem-end')],
    ['jws endorsement exp=-1e300', () => hostileJws({ exp: -1e300 }, 'adem-end')],
    ['jws emblem exp past the Date range', () => hostileJws({ exp: PAST_DATE_RANGE }, 'adem-emb')],
  ];
  for (const [name, make] of cases) {
    it(`jws: ${name}`, async () => {
      const genuine = await jwsOrgChain(keys, { external: {} });
      const base = await verify(genuine);
      assert.deepEqual(base.result, ['ENDORSED-UNTRUSTED'], JSON.stringify(base.errors));
      const report = await verify([...genuine, await make()]);
      assert.deepEqual(summary(report), summary(base));
      assertHasCode(report, 'TOKEN_MALFORMED');
    });
  }
  const cwtCases: Array<[string, () => Promise<Material>]> = [
    ['cwt emblem exp=1e300', () => hostileCwt(4, 1e300)],
    ['cwt emblem nbf=1e300', () => hostileCwt(5, 1e300)],
    ['cwt emblem iat=1e300', () => hostileCwt(6, 1e300)],
    ['cwt emblem exp=2^53-1', () => hostileCwt(4, Number.MAX_SAFE_INTEGER)],
    ['cwt emblem exp=NaN', () => hostileCwt(4, Number.NaN)],
  ];
  for (const [name, make] of cwtCases) {
    it(`cwt: ${name}`, async () => {
      const genuine = await cwtOrgChain(keys, { external: {} });
      const base = await verify(genuine);
      assert.deepEqual(base.result, ['ENDORSED-UNTRUSTED'], JSON.stringify(base.errors));
      const report = await verify([...genuine, await make()]);
      assert.deepEqual(summary(report), summary(base));
      assertHasCode(report, 'TOKEN_MALFORMED');
    });
  }
});

// ---- CLI -------------------------------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'emblem-hostile-times-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const FELIX = join(SHARED, 'interop', 'dns', 'emblem.felixlinker.de.txt');
const AT = '2026-06-17T00:10:00Z';

describe('hostile times: emblem verify over the felixlinker interop set', () => {
  it('the set plus an adem-token= record with nbf=exp=1e300 verifies as without it (exit 0)', async () => {
    const hostile = join(dir, 'hostile.txt');
    const payload = { ver: 'v1', iss: 'https://emblem.felixlinker.de', iat: 1e300, nbf: 1e300, exp: 1e300, assets: ['[2a01:4f9:c010:d8e4::1]'], emb: { prp: ['protective'] } };
    writeFileSync(hostile, `adem-token=${await craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: X.publicKey.jwk }, payload, X)}\n`);
    const base = await runCli(['verify', '--json', '--at', AT, '--skip-commitment-check', FELIX]);
    assert.equal(base.code, 0, base.stderr);
    const r = await runCli(['verify', '--json', '--at', AT, '--skip-commitment-check', FELIX, hostile]);
    assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
    const report = JSON.parse(r.stdout) as VerificationReport;
    assert.deepEqual(summary(report), summary(JSON.parse(base.stdout) as VerificationReport));
    assert.deepEqual(report.result, ['ENDORSED-UNTRUSTED']);
    assert.ok(codes(report).includes('TOKEN_MALFORMED'), JSON.stringify(report.errors));
  });
});

describe('hostile times: emblem sign refuses absurd times (usage error, exit 2)', () => {
  const env = { EMBLEM_PASSPHRASE: undefined };
  const key = join(dir, 'k.jwk');
  const pub = join(dir, 'k.pub.jwk');
  let ready: Promise<void> | null = null;
  const keygen = () =>
    (ready ??= runCli(['keygen', '--alg', 'ES256', '--out', key, '--public-out', pub], { env }).then((r) => {
      assert.equal(r.code, 0, r.stderr);
    }));
  const emblem = (...args: string[]) => runCli(['sign', 'emblem', '--key', key, '--asset', 'example.org', ...args], { env });
  const endorsement = (...args: string[]) => runCli(['sign', 'endorsement', '--key', key, '--endorse', pub, ...args], { env });
  const assertUsage = (r: { code: number; stdout: string; stderr: string }, mention: string) => {
    assert.equal(r.code, 2, `exit ${r.code}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '', 'no token printed');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
    assert.ok(lines[0]!.includes(mention), `stderr names ${mention}: ${r.stderr}`);
  };

  for (const era of ['jws', 'cwt']) {
    it(`${era}: --lifetime 100000000d`, async () => {
      await keygen();
      assertUsage(await emblem('--era', era, '--lifetime', '100000000d'), '--lifetime');
      assertUsage(await endorsement('--era', era, '--lifetime', '100000000d'), '--lifetime');
    });
    it(`${era}: --lifetime 9999999999y and a lifetime one day past the bound`, async () => {
      await keygen();
      assertUsage(await emblem('--era', era, '--lifetime', '9999999999y'), '--lifetime');
      const overBound = `${Limits.maxTokenLifetimeSeconds / 86_400 + 1}d`;
      assertUsage(await emblem('--era', era, '--lifetime', overBound), '--lifetime');
    });
    it(`${era}: --not-before out of range (year 0001, year 9999 + 30d)`, async () => {
      await keygen();
      assertUsage(await emblem('--era', era, '--not-before', '0001-01-01T00:00:00Z'), '--not-before');
      assertUsage(await emblem('--era', era, '--not-before', '9999-12-31T00:00:00Z', '--lifetime', '30d'), '--not-before');
    });
  }
  it('jws: --max-lifetime 9999999999y and 100000000d', async () => {
    await keygen();
    assertUsage(await endorsement('--max-lifetime', '9999999999y'), '--max-lifetime');
    assertUsage(await endorsement('--max-lifetime', '100000000d'), '--max-lifetime');
  });
  it('control: the longest allowed lifetime signs, and the token parses with exp - nbf = the bound', async () => {
    await keygen();
    const days = Limits.maxTokenLifetimeSeconds / 86_400;
    const r = await emblem('--lifetime', `${days}d`, '--not-before', '2026-06-17T00:00:00Z');
    assert.equal(r.code, 0, r.stderr);
    const token = parseJwsToken(r.stdout.trim());
    assert.equal(token.claims.exp - token.claims.nbf, Limits.maxTokenLifetimeSeconds);
    const c = await endorsement('--era', 'jws', '--max-lifetime', `${days}d`, '--not-before', '2026-06-17T00:00:00Z');
    assert.equal(c.code, 0, c.stderr);
    assert.equal(parseJwsToken(c.stdout.trim()).claims.window, Limits.maxTokenLifetimeSeconds);
  });
});

describe('hostile times: the core signer refuses what it could not parse back', () => {
  const t = validity();
  const cases: Array<[string, Partial<ReturnType<typeof validity>>]> = [
    ['exp 1e300', { exp: 1e300 }],
    ['nbf -1', { nbf: -1 }],
    ['iat NaN', { iat: Number.NaN }],
    ['exp - nbf past the lifetime bound', { nbf: t.nbf, exp: t.nbf + Limits.maxTokenLifetimeSeconds + 1 }],
  ];
  for (const [name, times] of cases) {
    it(name, async () => {
      for (const sign of [() => signJws('emblem', emblemSpec(times), E), () => signCwt('emblem', emblemSpec(times), E)]) {
        await assert.rejects(sign(), (err: unknown) => err instanceof EmblemError && err.code === 'USAGE', name);
      }
    });
  }
  it('control: valid times still sign in both eras', async () => {
    assert.ok(parseJwsToken(await signJws('emblem', emblemSpec(), E)).claims.exp > 0);
    assert.ok(hexEncode(await signCwt('emblem', emblemSpec(), E)).length > 100);
  });
});
