import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { IncidentRecord, ObservationIndexRecord, ObservatoryStore, TargetStateRecord } from '../../src/observatory/store.js';
import { ApiTokenVerifier, createApiToken, readTokensFile } from '../../src/server/tokens.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../dns/servers.js';
import { API_NOW, testApp, tested } from './app-fixture.js';

const AT = API_NOW.toISOString();
const env = { EMBLEM_PASSPHRASE: undefined };

/** A small in-memory ObservatoryStore (the real ones are the obs-store helper's; same interface). */
function fakeStore(): ObservatoryStore {
  const states = new Map<string, TargetStateRecord>();
  const observations: ObservationIndexRecord[] = [];
  const incidents: IncidentRecord[] = [];
  return {
    migrate: async () => {},
    getTargetStates: async (targets) => new Map(targets.filter((t) => states.has(t)).map((t) => [t, states.get(t)!])),
    putTargetStates: async (records) => records.forEach((r) => states.set(r.target, r)),
    addObservations: async (records) => void observations.push(...records),
    discardObservationsFromLeaf: async () => 0,
    discardIncidentObservationsFromLeaf: async () => [],
    observations: async (target, from, to, limit = Infinity) => observations.filter((o) => o.target === target && o.time >= from && o.time <= to).slice(0, limit),
    openIncident: async (i) => {
      const rec = { ...i, id: incidents.length + 1, closed: null };
      incidents.push(rec);
      return rec;
    },
    closeIncident: async (id, closed) => {
      incidents[id - 1]!.closed = closed;
    },
    incidents: async (filter = {}) => incidents.filter((i) => (filter.open === undefined || (i.closed === null) === filter.open) && (!filter.target || i.target === filter.target)),
    getCursor: async () => undefined,
    setCursor: async () => {},
    close: async () => {},
  };
}

describe('emblem serve: org, authority and observatory areas; tokens and the audit log', () => {
  const dir = tempDir('emblem-api-areas-');
  const orgDir = join(dir.path, 'org');
  const authDir = join(dir.path, 'authority');
  const tokensFile = join(dir.path, 'tokens.json');
  let app: FastifyInstance;
  let audit: Awaited<ReturnType<typeof testApp>>['audit'];
  let token: string;

  before(async () => {
    const yaml = join(dir.path, 'octodns.yaml');
    writeFileSync(yaml, '');
    const init = await runCli(['org', 'init', '--dir', orgDir, '--org', 'https://hospital.example', '--asset', 'clinic.hospital.example', '--publish', `octodns:${yaml}`, '--yes'], { env });
    assert.equal(init.code, 0, init.stderr);
    const auth = await runCli(['authority', 'init', '--dir', authDir, '--authority', 'https://authority.example', '--ct-log-list', 'no-such-log-list.json', '--yes'], { env });
    assert.equal(auth.code, 0, auth.stderr);
    token = (await createApiToken(tokensFile, 'dashboard', API_NOW)).token;
    const store = fakeStore();
    await store.putTargetStates([{ target: 'clinic.hospital.example', state: '{"level":"ENDORSED-TRUSTED"}', updated: AT }]);
    await store.addObservations([
      { target: 'clinic.hospital.example', time: '2026-06-16T00:00:00.000Z', vantagePoint: 'vp1', status: 'ENDORSED-TRUSTED', leafIndex: 0 },
      { target: 'clinic.hospital.example', time: '2026-06-17T00:00:00.000Z', vantagePoint: 'vp1', status: 'no-emblem', leafIndex: 1 },
    ]);
    await store.openIncident({ type: 'EMBLEM_MISSING', target: 'clinic.hospital.example', severity: 'critical', opened: '2026-06-17T00:00:00.000Z', observations: [1], detail: 'ENDORSED-TRUSTED -> no-emblem' });
    ({ app, audit } = await testApp({
      tokens: new ApiTokenVerifier(tokensFile),
      org: { dir: orgDir },
      authority: { dir: authDir },
      observatory: {
        store,
        targets: async () => ['clinic.hospital.example', 'other.example'],
        evidenceDir: join(dir.path, 'evidence'),
        exportEvidence: async (o) => ({ target: o.target, at: o.at, entries: [] }),
      },
    }));
  });
  after(async () => {
    await app?.close();
    dir.remove();
  });

  it('the tokens file holds only SHA-256 hashes, mode 0600; `emblem serve token create` prints the token once', async () => {
    const entries = await readTokensFile(tokensFile);
    assert.equal(entries.length, 1);
    assert.ok(!readFileSync(tokensFile, 'utf8').includes(token));
    assert.equal(statSync(tokensFile).mode & 0o777, 0o600);
    const cli = await runCli(['serve', 'token', 'create', '--name', 'ci', '--tokens', tokensFile]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout.trim(), /^emb_[A-Za-z0-9_-]{43}$/);
    assert.ok(!readFileSync(tokensFile, 'utf8').includes(cli.stdout.trim()));
    const again = await runCli(['serve', 'token', 'create', '--name', 'ci', '--tokens', tokensFile]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /FILE_EXISTS/);
  });

  it('GET /api/features reports the enabled areas', async () => {
    assert.deepEqual((await app.inject('/api/features')).json(), { org: true, authority: true, observatory: true });
  });

  it('org: lint, status and plan answer what `emblem org … --json` prints', async () => {
    tested('GET /api/org/lint');
    tested('GET /api/org/status');
    tested('GET /api/org/plan');
    const lint = await runCli(['org', 'lint', '--dir', orgDir, '--at', AT, '--json'], { env });
    assert.deepEqual((await app.inject(`/api/org/lint?at=${AT}`)).json(), JSON.parse(lint.stdout));
    const status = await runCli(['org', 'status', '--dir', orgDir, '--at', AT, '--offline', '--json'], { env });
    assert.deepEqual((await app.inject(`/api/org/status?at=${AT}&offline=true`)).json(), JSON.parse(status.stdout));
    const plan = await runCli(['org', 'plan', '--dir', orgDir, '--at', AT, '--json'], { env });
    const res = await app.inject(`/api/org/plan?at=${AT}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), JSON.parse(plan.stdout));
  });

  it('write endpoints without a token (or with a wrong one) get 401, and each attempt is in the audit log', async () => {
    tested('POST /api/org/apply');
    tested('POST /api/org/withdraw');
    tested('POST /api/authority/grant');
    const writes = [
      ['/api/org/apply', {}],
      ['/api/org/withdraw', { assets: 'all', confirm: true }],
      ['/api/authority/grant', { request: {} }],
    ] as const;
    for (const [url, payload] of writes) {
      for (const headers of [{}, { authorization: 'Bearer emb_wrong' }, { authorization: `Basic ${token}` }, { authorization: `Bearer ${token}x` }]) {
        const before = audit.length;
        const res = await app.inject({ method: 'POST', url, payload, headers });
        assert.equal(res.statusCode, 401, `${url} ${JSON.stringify(headers)}`);
        assert.match(res.json().error.code, /^AUTH_(REQUIRED|INVALID)$/);
        assert.equal(audit.length, before + 1);
        assert.deepEqual({ ...audit.at(-1), time: undefined }, { time: undefined, token: null, method: 'POST', route: url, status: 401, outcome: 'denied' });
      }
    }
  });

  it('with a token: withdraw without confirm is refused (400), logged with the token name; grant of a malformed request fails with its code', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const res = await app.inject({ method: 'POST', url: '/api/org/withdraw', payload: { assets: 'all', confirm: false }, headers: auth });
    assert.equal(res.statusCode, 400);
    assert.equal(audit.at(-1)!.token, 'dashboard');
    assert.equal(audit.at(-1)!.outcome, 'failed');
    const unknown = await app.inject({ method: 'POST', url: '/api/org/withdraw', payload: { assets: ['not-mine.example'], confirm: true }, headers: auth });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().error.code, 'USAGE');
    const grant = await app.inject({ method: 'POST', url: '/api/authority/grant', payload: { request: { not: 'a request' } }, headers: auth });
    assert.equal(grant.statusCode, 400, grant.body);
    assert.equal(typeof grant.json().error.code, 'string');
    assert.equal(audit.at(-1)!.route, '/api/authority/grant');
  });

  it('authority: registry and expiring answer `emblem authority list --json`; review of a malformed request is a 400 with its code', async () => {
    tested('GET /api/authority/registry');
    tested('GET /api/authority/expiring');
    tested('POST /api/authority/review');
    const list = await runCli(['authority', 'list', '--dir', authDir, '--at', AT, '--json'], { env });
    assert.deepEqual((await app.inject(`/api/authority/registry?at=${AT}`)).json(), JSON.parse(list.stdout));
    const expiring = await runCli(['authority', 'list', '--dir', authDir, '--at', AT, '--expiring', '30d', '--json'], { env });
    assert.deepEqual((await app.inject(`/api/authority/expiring?at=${AT}&days=30`)).json(), JSON.parse(expiring.stdout));
    assert.equal((await app.inject('/api/authority/expiring?days=-1')).statusCode, 400);
    const review = await app.inject({ method: 'POST', url: '/api/authority/review', payload: { request: '{"nope":1}' } });
    assert.equal(review.statusCode, 400, review.body);
    assert.equal(review.json().error.code, 'REQUEST_MALFORMED');
  });

  it('observatory: targets, incidents, observation history and evidence bundles', async () => {
    tested('GET /api/observatory/targets');
    tested('GET /api/observatory/incidents');
    tested('GET /api/observatory/targets/{name}/observations');
    tested('GET /api/observatory/evidence');
    const targets = (await app.inject('/api/observatory/targets')).json();
    assert.deepEqual(targets.targets[0], { target: 'clinic.hospital.example', state: { level: 'ENDORSED-TRUSTED' }, updated: AT, openIncidents: 1 });
    assert.equal(targets.targets[1].state, null);
    const open = (await app.inject('/api/observatory/incidents?open=true')).json();
    assert.equal(open.incidents.length, 1);
    assert.equal(open.incidents[0].type, 'EMBLEM_MISSING');
    const hist = (await app.inject('/api/observatory/targets/clinic.hospital.example/observations?from=2026-06-01T00:00:00Z&to=2026-06-17T00:10:00Z')).json();
    assert.deepEqual(hist.observations.map((o: ObservationIndexRecord) => o.status), ['ENDORSED-TRUSTED', 'no-emblem']);
    assert.equal((await app.inject('/api/observatory/targets/x/observations?from=2026-06-18T00:00:00Z&to=2026-06-17T00:00:00Z')).statusCode, 400);
    const bundle = await app.inject('/api/observatory/evidence?target=clinic.hospital.example&at=2026-06-17T00:00:00Z');
    assert.deepEqual(bundle.json(), { target: 'clinic.hospital.example', at: '2026-06-17T00:00:00.000Z', entries: [] });
    assert.equal((await app.inject('/api/observatory/evidence')).statusCode, 400);
  });

  it('every path of the OpenAPI document has a test (a tested("METHOD /path") call in test/server)', async () => {
    const doc = (await app.inject('/api/openapi.json')).json() as { paths: Record<string, Record<string, unknown>> };
    const sources = readdirSync(import.meta.dirname).filter((f) => f.endsWith('.test.ts')).map((f) => readFileSync(join(import.meta.dirname, f), 'utf8')).join('\n');
    const missing: string[] = [];
    let count = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        count++;
        const route = `${method.toUpperCase()} ${path}`;
        if (!sources.includes(`tested('${route}')`)) missing.push(route);
      }
    }
    assert.ok(count >= 20, `only ${count} operations in the document`);
    assert.deepEqual(missing, []);
  });
});
