// The scan's building blocks on hostile and edge-case input: readers, CSV, ZDNS, resume cut-off, rate limiting.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { parseCsvLine, csvField } from '../../src/validator/csv.js';
import { ScanLimits } from '../../src/validator/limits.js';
import { RateLimiter } from '../../src/validator/rate-limiter.js';
import { formatResult, parseResultLine } from '../../src/validator/result-format.js';
import { OrderedResultWriter, type LineSink } from '../../src/validator/result-writer.js';
import { prepareResume } from '../../src/validator/resume-state.js';
import { readTargets, type TargetReaderOptions } from '../../src/validator/target-reader.js';
import { parseZdnsLine } from '../../src/validator/zdns-record.js';
import type { ScanTarget } from '../../src/validator/scan-target.js';
import { tempDir } from './scan-helpers.js';

const tmp = tempDir('emblem-scan-units-');
after(() => tmp.remove());

async function targets(text: string | Buffer[], options: Partial<TargetReaderOptions> = {}): Promise<ScanTarget[]> {
  const out: ScanTarget[] = [];
  const input = Readable.from(typeof text === 'string' ? [Buffer.from(text)] : text);
  for await (const t of readTargets(input, { format: 'names', ihleType: 65400, ...options })) out.push(t);
  return out;
}

test('names: blank lines and comments are skipped, CRLF accepted, lines split across chunks joined', async () => {
  const got = await targets([Buffer.from('# list\r\na.example\r\n\n  b.exa'), Buffer.from('mple  \nc.example')]);
  assert.deepEqual(got.map((t) => [t.index, t.name]), [[0, 'a.example'], [1, 'b.example'], [2, 'c.example']]);
});

test('skip counts lines without parsing them, so indexes stay stable on resume', async () => {
  const got = await targets('{bad\n{"name":"b.example"}\n{"name":"c.example"}\n', { format: 'zdns', skip: 1 });
  assert.deepEqual(got.map((t) => [t.index, t.name]), [[1, 'b.example'], [2, 'c.example']]);
});

test('an over-long line becomes one error target and is never held in memory', async () => {
  const huge = Buffer.alloc(ScanLimits.maxInputLineBytes + 10, 0x61);
  const got = await targets([Buffer.from('a.example\n'), huge, Buffer.from('\nb.example\n')]);
  assert.equal(got.length, 3);
  assert.equal(got[1]!.name, '');
  assert.match(got[1]!.inputError!, /longer than/);
  assert.equal(got[2]!.name, 'b.example');
});

test('csv: header detection, quoted fields, explicit column, rows without a name are errors', async () => {
  const got = await targets('rank,domain\n1,"a.example"\n2,b.example\n3,\n', { format: 'csv' });
  assert.deepEqual(got.map((t) => [t.index, t.name, t.inputError !== undefined]), [[0, 'a.example', false], [1, 'b.example', false], [2, '', true]]);
  const noHeader = await targets('a.example,1\nb.example,2\n', { format: 'csv' });
  assert.deepEqual(noHeader.map((t) => t.name), ['a.example', 'b.example']);
  const byNumber = await targets('1,a.example\n', { format: 'csv', csvColumn: '1' });
  assert.deepEqual(byNumber.map((t) => t.name), ['a.example']);
  assert.deepEqual(parseCsvLine('"a ""q"", b",c,'), ['a "q", b', 'c', '']);
  assert.equal(csvField('x,"y"'), '"x,""y"""');
  assert.throws(() => parseCsvLine('"open'), /unterminated/);
});

test('zdns: v1 and v2 layouts, joined TXT strings, IHLE in RFC 3597 form, statuses', () => {
  const v1 = parseZdnsLine(JSON.stringify({ name: 'a.example', status: 'NOERROR', data: { answers: [{ type: 'TXT', answer: 'adem-token=ab\ncd' }, { type: 'A', answer: '192.0.2.1' }, { type: 'TYPE65400', answer: '\\# 2 a0ff' }] } }), 65400);
  assert.equal(Buffer.from(v1.records.txtValues[0]!).toString(), 'adem-token=abcd');
  assert.deepEqual(v1.records.addresses, ['192.0.2.1']);
  assert.deepEqual([...v1.records.ihleRdatas[0]!], [0xa0, 0xff]);
  const v2 = parseZdnsLine(JSON.stringify({ name: 'b.example', results: { TXT: { status: 'NXDOMAIN', data: {} } } }), 65400);
  assert.equal(v2.records.rcode, 'NXDOMAIN');
  assert.equal(parseZdnsLine(JSON.stringify({ name: 'c.example', status: 'SERVFAIL' }), 65400).records.rcode, 'SERVFAIL');
  // Wrong length in \# form and junk types are ignored, not fatal.
  const junk = parseZdnsLine(JSON.stringify({ name: 'd.example', data: { answers: [{ type: 'IHLE', answer: '\\# 9 00' }, 7, { type: 5 }] } }), 65400);
  assert.equal(junk.records.ihleRdatas.length, 0);
  assert.throws(() => parseZdnsLine('[1,2]', 65400), /no "name"/);
  assert.throws(() => parseZdnsLine('{', 65400), /not JSON/);
});

const report = (target: string, status: 'protected' | 'no-emblem') => ({ target, status, level: null, sets: [], discovery: null, errors: [] });

test('results round-trip through both output formats', () => {
  for (const format of ['jsonl', 'csv'] as const) {
    const line = formatResult({ index: 7, report: report('a,b.example', 'no-emblem') }, format);
    assert.ok(line.endsWith('\n'));
    assert.deepEqual(parseResultLine(line.slice(0, -1), format), { index: 7, status: 'no-emblem', level: null, issuer: null, endorsers: [] });
  }
  assert.equal(parseResultLine('{"index":1,"status":"bogus"}', 'jsonl'), null);
});

test('resume cuts a partial last line and continues after the last complete result', async () => {
  const file = join(tmp.dir, 'partial.jsonl');
  const lines = [0, 1, 2].map((i) => formatResult({ index: i, report: report(`n${i}.example`, 'no-emblem') }, 'jsonl'));
  writeFileSync(file, `${lines.join('')}{"index":3,"tar`);
  const point = await prepareResume(file, 'jsonl');
  assert.equal(point.nextIndex, 3);
  assert.equal(point.summary.targets, 3);
  assert.equal(readFileSync(file, 'utf8'), lines.join(''));
});

test('resume refuses a file that is not a prefix of this scan (gap, foreign content)', async () => {
  const file = join(tmp.dir, 'gap.jsonl');
  writeFileSync(file, [0, 2].map((i) => formatResult({ index: i, report: report('x.example', 'no-emblem') }, 'jsonl')).join(''));
  await assert.rejects(prepareResume(file, 'jsonl'), { code: 'RESUME_MISMATCH' });
  writeFileSync(file, 'hello\n');
  await assert.rejects(prepareResume(file, 'jsonl'), { code: 'RESUME_MISMATCH' });
  assert.equal((await prepareResume(join(tmp.dir, 'absent.jsonl'), 'jsonl')).nextIndex, 0);
});

test('the writer emits results in input order whatever order they finish in', async () => {
  const written: string[] = [];
  const sink: LineSink = { write: async (d) => void written.push(d), sync: async () => {}, close: async () => {} };
  const writer = new OrderedResultWriter(sink, 10);
  for (const i of [12, 10, 14, 11, 13]) writer.add(i, `${i}\n`);
  await writer.close();
  assert.equal(written.join(''), '10\n11\n12\n13\n14\n');
});

test('the rate limiter never lets the long-run rate exceed its budget (fake clock)', async () => {
  let now = 0;
  const limiter = new RateLimiter(10, () => now);
  let granted = 0;
  for (let i = 0; i < 10; i++) void limiter.take(1).then(() => granted++);
  await new Promise((r) => setImmediate(r));
  assert.equal(granted, 10, 'a one-second burst is allowed');
  limiter.charge(5); // the last requests cost more than reserved
  let late = false;
  void limiter.take(1).then(() => (late = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(late, false, 'in debt: the next request waits');
  now = 1000;
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(late, true);
});

test('commitment checks: one lookup per log-bearing endorsement, concurrent requests joined', async () => {
  const { CachingCommitmentChecker } = await import('../../src/validator/commitment-cache.js');
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const inner = {
    async check() {
      calls++;
      await gate;
      return { status: 'verified' as const, errors: [] };
    },
  };
  const checker = new CachingCommitmentChecker(inner);
  const request = (kid: string) => ({
    era: 'jws' as const, issuer: 'https://org.example', host: 'org.example', kid, publicKey: { kty: 'EC' },
    logs: [{ ver: 'v1' as const, id: new Uint8Array(32).fill(1), hash: new Uint8Array(32).fill(2) }], now: new Date(0),
  });
  const concurrent = Promise.all([checker.check(request('a')), checker.check(request('a')), checker.check(request('a'))]);
  await new Promise((r) => setImmediate(r));
  release();
  const outcomes = await concurrent;
  assert.deepEqual(outcomes.map((o) => o.status), ['verified', 'verified', 'verified']);
  await checker.check(request('a'));
  assert.equal(calls, 1, 'three concurrent requests and a later one cost one lookup');
  await checker.check(request('b'));
  assert.equal(calls, 2, 'another key is another lookup');
  assert.equal(checker.lookups, 2);
});

test('the writer drops a second result for an index (idempotent writes for at-least-once delivery)', async () => {
  const written: string[] = [];
  const sink: LineSink = { write: async (d) => void written.push(d), sync: async () => {}, close: async () => {} };
  const writer = new OrderedResultWriter(sink, 0);
  writer.add(1, 'b1\n');
  writer.add(1, 'b2\n');
  writer.add(0, 'a\n');
  writer.add(0, 'a2\n');
  await writer.close();
  assert.equal(written.join(''), 'a\nb1\n');
});

test('queue contents are checked like input: malformed jobs, targets and results never crash', async () => {
  const { decodeTargets, decodeJobResult, encodeTarget } = await import('../../src/validator/distributed/queue-job.js');
  assert.throws(() => decodeTargets(null, 100), { code: 'QUEUE_JOB_INVALID' });
  assert.throws(() => decodeTargets({ first: 0, targets: new Array(101).fill({}), config: {} }, 100), { code: 'QUEUE_JOB_INVALID' });
  const good = encodeTarget({ index: 5, name: 'a.example', prefetched: { rcode: 'NOERROR', txtValues: [Buffer.from('x')], ihleRdatas: [], addresses: [] } });
  const decoded = decodeTargets({ first: 5, config: { skipCommitmentCheck: 'yes', era: 'weird', trustedKeys: 'nope' }, targets: [good, { index: 9, name: 7 }] }, 100);
  assert.equal(Buffer.from(decoded.targets[0]!.prefetched!.txtValues[0]!).toString(), 'x');
  assert.match(decoded.targets[1]!.inputError!, /malformed/);
  assert.equal(decoded.targets[1]!.index, 6, 'indexes come from the job, not from the target');
  assert.deepEqual([decoded.config.skipCommitmentCheck, decoded.config.era, decoded.config.trustedKeys], [false, 'any', []]);
  const report = { target: 'a.example', status: 'no-emblem', level: null, sets: [], discovery: null, errors: [] };
  const results = decodeJobResult({ results: [{ index: 5, report }, { index: 5, report: { ...report, target: 'dup' } }, { index: 99, report }, { index: 6, report: { status: 'pwned' } }] }, 5, 2);
  assert.deepEqual([...results.keys()], [5]);
  assert.equal(results.get(5)!.target, 'a.example');
  assert.equal(decodeJobResult('garbage', 0, 1).size, 0);
});

test('verification with the parsed-material cache reports exactly what verifyMaterial reports', async () => {
  const tokens = await import('../helpers/tokens.js');
  const { verifyMaterial } = await import('../../src/core/verify/index.js');
  const { skipCommitmentCheck } = await import('../../src/core/verify/commitment.js');
  const { createSignatureCache } = await import('../../src/core/verify/signature-cache.js');
  const { ParsedMaterialCache } = await import('../../src/validator/parsed-material-cache.js');
  const [emblem, root, authority] = await tokens.makeKeys(3);
  const keys = { emblem: emblem!, root: root!, authority: authority! };
  const jws = await tokens.jwsOrgChain(keys, { external: {} });
  const cwt = await tokens.cwtOrgChain(keys);
  const expired = await tokens.jwsOrgChain(keys, { emblem: tokens.validity(tokens.DAY, tokens.NOW_S - 10 * tokens.DAY) });
  const broken = jws.map((m, i) => (i === 0 && m.kind === 'jws' ? { ...m, text: `${m.text.slice(0, -4)}AAAA` } : m));
  const sets = {
    jws, cwt, expired, broken,
    mixed: [...jws.slice(0, 1), ...cwt],
    garbage: [{ kind: 'jws' as const, text: 'not.a.token', source: 'dns:x' }, { kind: 'jwk' as const, jwk: { kty: 'nope' }, source: 'dns:x' }, ...jws],
    unsigned: [{ kind: 'jws' as const, text: `${tokens.b64json({ alg: 'none' })}.${tokens.b64json({})}.` }],
    duplicated: [...jws, jws[0]!, jws[1]!],
    tooManyTokens: [...(await Promise.all(Array.from({ length: 65 }, (_, i) => tokens.craftJws({ alg: 'ES256', kid: emblem!.publicKey.jwsKid }, tokens.jwsEmblemPayload({ assets: [`n${i}.example`] }), emblem!)))).map(tokens.jwsItem), ...jws],
    tooManyKeys: [...jws, ...tokens.keyItems(...(await tokens.makeKeys(66)))],
    empty: [],
  };
  const options = { now: tokens.NOW, commitments: skipCommitmentCheck };
  const parsed = new ParsedMaterialCache(16);
  const sigCache = createSignatureCache();
  for (const round of [1, 2]) {
    for (const [name, material] of Object.entries(sets)) {
      const expected = await verifyMaterial(material, { ...options, cache: createSignatureCache() });
      const got = await verifyMaterial(material, { ...options, cache: sigCache, parser: parsed });
      assert.deepEqual(got, expected, `${name}, round ${round}`);
    }
  }
});

test('verification threads start at the first set; one that dies fails only its own sets; a new thread takes over', { timeout: 60_000 }, async () => {
  const tokens = await import('../helpers/tokens.js');
  const { skipCommitmentCheck } = await import('../../src/core/verify/commitment.js');
  const { VerificationPool } = await import('../../src/validator/verify-pool.js');
  const [emblem, root, authority] = await tokens.makeKeys(3);
  const material = await tokens.jwsOrgChain({ emblem: emblem!, root: root!, authority: authority! });
  const pool = new VerificationPool({ workers: 1, now: tokens.NOW, trustedKeys: [], policy: {}, commitments: skipCommitmentCheck });
  const slots = () => (pool as unknown as { slots: unknown[] }).slots.length;
  try {
    // No thread before the first set (a scan of names without emblems never starts one).
    assert.equal(slots(), 0);
    assert.notEqual((await pool.verify(material)).result[0], 'INVALID');
    assert.equal(slots(), 1);
    const inFlight = pool.verify(material);
    // Kill the thread under the pending set (as an out-of-memory abort would).
    await (pool as unknown as { slots: Array<{ worker: { terminate(): Promise<number> } }> }).slots[0]!.worker.terminate();
    await assert.rejects(inFlight, { code: 'VERIFY_WORKER_FAILED' });
    assert.notEqual((await pool.verify(material)).result[0], 'INVALID', 'the replacement thread verifies');
  } finally {
    await pool.close();
  }
});
