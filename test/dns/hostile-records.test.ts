/**
 * Hostile and mistaken records over real DNS on loopback (issue 9 §5):
 * - a genuine ENDORSED set plus one extra record whose `exp`/`nbf` is 1e300: `emblem check` says `protected`
 *   (the hostile token is TOKEN_MALFORMED and dropped), where it used to say `error` ("Invalid time value");
 * - a CWT given as `adem-token=<hex>` to `emblem dns records|zone` is published as IHLE, so `emblem check` finds
 *   and verifies it, instead of a TXT record that every validator reads as a malformed JWS.
 * Fixed times only: the interop set at INTEROP_AT, our own tokens signed at the helpers' NOW.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signCwt, type SigningKey } from '../../src/core/tokens/sign.js';
import {
  craftJws,
  CWT_LOG,
  emblemSpec,
  endorsementSpec,
  hexEncode,
  makeKeys,
  NOW,
} from '../helpers/tokens.js';
import { cli, FELIX_ADDRESS, INTEROP_AT, INTEROP_DNS } from './fixtures.js';
import { startEmblemServer, tempDir, type EmblemServer } from './servers.js';

interface CheckJson {
  status: string;
  level: string | null;
  sets: Array<{ result: string[]; errors: Array<{ code: string }>; covered: boolean }>;
  errors: Array<{ code: string }>;
}

const [X, E, R] = (await makeKeys(3, 'ES256')) as [SigningKey, SigningKey, SigningKey];
const FELIX = join(INTEROP_DNS, 'emblem.felixlinker.de.txt');

/** An emblem for the felixlinker asset and issuer, by an unrelated key, with the given times. */
function hostileEmblem(times: Record<string, number>): Promise<string> {
  const payload = {
    ver: 'v1', iss: 'https://emblem.felixlinker.de', iat: 1_775_000_000, nbf: 1_775_000_000, exp: 1_800_000_000,
    assets: [`[${FELIX_ADDRESS}]`], emb: { prp: ['protective'] }, ...times,
  };
  return craftJws({ alg: 'ES256', cty: 'adem-emb', jwk: X.publicKey.jwk }, payload, X);
}

async function check(port: number, name: string, extra: string[] = []): Promise<{ code: number; json: CheckJson; stderr: string }> {
  const res = await cli(['check', '--resolver', `127.0.0.1:${port}`, '--skip-commitment-check', '--json', ...extra, name]);
  assert.ok(res.stdout.startsWith('{'), `no JSON (exit ${res.code}): ${res.stderr}`);
  return { code: res.code, json: JSON.parse(res.stdout) as CheckJson, stderr: res.stderr };
}

describe('emblem check: a genuine set plus a record with exp/nbf = 1e300 stays protected', () => {
  const dir = tempDir();
  let server: EmblemServer;
  const names = { genuine: 'emblem.felixlinker.de', exp: 'exp.felixlinker.de', nbf: 'nbf.felixlinker.de', both: 'both.felixlinker.de' };

  before(async () => {
    const genuine = readFileSync(FELIX, 'utf8');
    const withRecord = async (file: string, times: Record<string, number>) => {
      const path = join(dir.path, file);
      writeFileSync(path, `${genuine.trimEnd()}\nadem-token=${await hostileEmblem(times)}\n`);
      return path;
    };
    const files = {
      exp: await withRecord('exp.txt', { exp: 1e300 }),
      nbf: await withRecord('nbf.txt', { nbf: 1e300, exp: 1e300 }),
      both: await withRecord('both.txt', { iat: 1e300, nbf: 1e300, exp: 1e300 }),
    };
    const res = await cli([
      'dns', 'zone', '--origin', 'felixlinker.de', '--serial', '9',
      '--add', `${names.genuine}=${FELIX}`,
      '--add', `${names.exp}=${files.exp}`,
      '--add', `${names.nbf}=${files.nbf}`,
      '--add', `${names.both}=${files.both}`,
      ...Object.values(names).flatMap((n) => ['--address', `${n}=${FELIX_ADDRESS}`]),
    ]);
    assert.equal(res.code, 0, res.stderr);
    const zone = join(dir.path, 'hostile-times.zone');
    writeFileSync(zone, res.stdout);
    server = await startEmblemServer([zone]);
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });

  it('control: the genuine set alone is protected at ENDORSED-UNTRUSTED', async () => {
    const r = await check(server.port, names.genuine, ['--at', INTEROP_AT]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.status, 'protected');
    assert.equal(r.json.level, 'ENDORSED-UNTRUSTED');
  });

  for (const which of ['exp', 'nbf', 'both'] as const) {
    it(`genuine set + emblem record with ${which === 'exp' ? 'exp' : which === 'nbf' ? 'nbf and exp' : 'iat, nbf and exp'} = 1e300: protected, the record dropped as TOKEN_MALFORMED`, async () => {
      const r = await check(server.port, names[which], ['--at', INTEROP_AT]);
      assert.equal(r.json.status, 'protected', `${r.json.status}: ${JSON.stringify(r.json.errors)} ${JSON.stringify(r.json.sets.map((s) => s.errors))} ${r.stderr}`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json.level, 'ENDORSED-UNTRUSTED');
      const codes = r.json.sets.flatMap((s) => s.errors.map((e) => e.code));
      assert.ok(codes.includes('TOKEN_MALFORMED'), JSON.stringify(codes));
    });
  }
});

describe('emblem dns records|zone: a CWT given as adem-token=<hex> is published as IHLE', () => {
  const dir = tempDir();
  const NAME = 'ihle.example.org';
  let emblemHex = '';
  let endorsementHex = '';
  let file = '';
  let server: EmblemServer | undefined;

  before(async () => {
    // A CWT-era chain at the helpers' fixed NOW: root key R endorses emblem key E, which marks NAME.
    emblemHex = hexEncode(await signCwt('emblem', emblemSpec({ assets: [NAME] }), E));
    endorsementHex = hexEncode(await signCwt('endorsement', endorsementSpec(E, { log: CWT_LOG, end: false }), R));
    file = join(dir.path, 'mixed-up.txt');
    // What a user writes after reading about DNS-01 and signing with --era cwt: hex behind the TXT prefixes.
    writeFileSync(
      file,
      [`adem-token=${emblemHex}`, `adem-token=${endorsementHex}`, `adem-key=${JSON.stringify(E.publicKey.jwk)}`, `adem-key=${JSON.stringify(R.publicKey.jwk)}`].join('\n') + '\n',
    );
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });

  it('records: the CWTs become IHLE records (RFC 3597 form), never TXT', async () => {
    const r = await cli(['dns', 'records', '--name', NAME, file]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const ihle = lines.filter((l) => / IN TYPE65400 /.test(l));
    const txt = lines.filter((l) => / IN TXT /.test(l));
    const hexOf = (l: string) => l.replace(/^.*\\# \d+ /, '').replace(/\s+/g, '').toLowerCase();
    assert.ok(ihle.some((l) => hexOf(l) === emblemHex.toLowerCase()), `emblem CWT in IHLE:\n${r.stdout}`);
    assert.ok(ihle.some((l) => hexOf(l) === endorsementHex.toLowerCase()), `endorsement CWT in IHLE:\n${r.stdout}`);
    assert.ok(!txt.some((l) => l.includes('adem-token=')), `no adem-token TXT record:\n${r.stdout}`);
    const values = await cli(['dns', 'records', '--format', 'value', '--era', 'cwt', file]);
    assert.equal(values.code, 0, values.stderr);
    assert.ok(values.stdout.toLowerCase().includes(emblemHex.toLowerCase()), values.stdout);
  });

  it('records: adem-token-ID=<hex> is refused (IHLE has no identifiers), exit 2, one line', async () => {
    const withId = join(dir.path, 'with-id.txt');
    writeFileSync(withId, `adem-token-a=${emblemHex}\n`);
    const r = await cli(['dns', 'records', withId]);
    assert.equal(r.code, 2, r.stdout);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /IHLE records have no identifiers/);
  });

  it('records: adem-token=<hex that is not a CWT> is refused, exit 2', async () => {
    const bad = join(dir.path, 'bad.txt');
    writeFileSync(bad, `adem-token=${emblemHex.slice(0, 40)}\n`);
    const r = await cli(['dns', 'records', bad]);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /adem-token= holds hex that is neither a JWS nor one CBOR item/);
  });

  it('zone + serve + check --era cwt: the emblem is found in IHLE and the name is protected', async () => {
    const z = await cli(['dns', 'zone', '--origin', 'example.org', '--name', NAME, '--serial', '3', file]);
    assert.equal(z.code, 0, z.stderr);
    assert.match(z.stdout, /^ihle\s+3600\s+IN\s+TYPE65400\s+\\# /m);
    assert.ok(!/adem-token=[0-9a-f]/i.test(z.stdout), 'no hex token in TXT');
    const zone = join(dir.path, 'ihle.zone');
    writeFileSync(zone, z.stdout);
    server = await startEmblemServer([zone]);
    const r = await check(server.port, NAME, ['--era', 'cwt', '--at', NOW.toISOString()]);
    assert.equal(r.json.status, 'protected', `${r.json.status}: ${JSON.stringify(r.json.sets.map((s) => s.errors))} ${r.stderr}`);
    assert.equal(r.code, 0);
    assert.equal(r.json.level, 'ORGANIZATIONAL-UNTRUSTED');
    assert.equal(r.json.sets[0]?.result.includes('ORGANIZATIONAL-UNTRUSTED'), true, JSON.stringify(r.json.sets[0]));
  });
});
