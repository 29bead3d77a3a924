import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { loadObserveConfig, validateObserveConfig } from '../../src/observatory/config.js';
import { recordsDigest } from '../../src/observatory/observation.js';

const base = { targets: ['a.example'], vantagePoints: [{ name: 'v', resolver: '127.0.0.1:53' }], windowSeconds: 600, database: 'sqlite:s.db' };
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return `${(err as { code: string }).code}: ${(err as Error).message}`;
  }
  return 'ok';
};

describe('observe config', () => {
  it('defaults: consecutiveWindows 2, validator mode, paths relative to the config file', () => {
    const c = validateObserveConfig({ ...base, evidenceDir: 'ev', vantagePoints: [{ name: 'doh', resolver: 'https://dns.example/dns-query' }] }, '/etc/emblem/observe.yaml');
    assert.equal(c.consecutiveWindows, 2);
    assert.equal(c.mode, 'validator');
    assert.equal(c.evidenceDir, '/etc/emblem/ev');
    assert.equal(c.database, 'sqlite:/etc/emblem/s.db');
    assert.equal(c.vantagePoints[0]!.spec.kind, 'doh');
  });

  it('queue: defaults (name, a job timeout of at least the window, a 30 s lock)', () => {
    const c = validateObserveConfig({ ...base, queue: { redis: 'redis://127.0.0.1:6380/2' } }, '/etc/emblem/observe.yaml');
    assert.deepEqual(c.queue, { redis: 'redis://127.0.0.1:6380/2', name: 'emblem-observe', jobTimeoutSeconds: 600, lockSeconds: 30 });
    assert.equal(validateObserveConfig(base, '/x.yaml').queue, undefined);
  });

  it('rejects with OBSERVE_CONFIG_INVALID naming each bad field', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, targets: undefined }, 'needs "targets"'],
      [{ ...base, vantagePoints: [] }, 'config.vantagePoints'],
      [{ ...base, vantagePoints: [{ name: 'v', resolver: '1.2.3.4:99999' }] }, 'vantagePoints[0].resolver'],
      [{ ...base, vantagePoints: [{ name: 'v', resolver: 'http://dns.example/q' }] }, 'vantagePoints[0].resolver'],
      [{ ...base, vantagePoints: [{ name: 'v', resolver: '127.0.0.1' }, { name: 'v', resolver: '127.0.0.2' }] }, 'duplicate name'],
      [{ ...base, windowSeconds: 0 }, 'windowSeconds'],
      [{ ...base, consecutiveWindows: 0 }, 'consecutiveWindows'],
      [{ ...base, database: 'mysql://x' }, 'config.database'],
      [{ ...base, queue: { name: 'q' } }, 'config.queue.redis: required'],
      [{ ...base, queue: { redis: 'http://127.0.0.1:6379' } }, 'config.queue.redis'],
      [{ ...base, queue: { redis: 'redis://127.0.0.1:6379', name: 'a b' } }, 'config.queue.name'],
      [{ ...base, queue: { redis: 'redis://127.0.0.1:6379', lockSeconds: 0 } }, 'config.queue.lockSeconds'],
      [{ ...base, queue: { redis: 'redis://127.0.0.1:6379', extra: 1 } }, 'config.queue.extra: unknown key'],
      [{ ...base, webhooks: [{ url: 'ftp://x', secret: 'short' }] }, 'webhooks[0].url'],
      [{ ...base, webhooks: [{ url: 'https://x.example', secret: 'short' }] }, 'webhooks[0].secret'],
      [{ ...base, mode: 'spy' }, 'config.mode'],
      [{ ...base, probes: [{ target: 'a.example', ports: [443] }] }, 'only allowed with mode: owner'],
      [{ ...base, mode: 'owner', probes: [{ target: 'a.example', ports: [0] }] }, 'probes[0].ports'],
      [{ ...base, targets: ['not a name!'] }, 'targets[0]'],
      [{ ...base, ct: { organizations: [{ name: 'org.example', known: ['zz'] }], logs: [{ url: 'http://127.0.0.1:1/' }] } }, 'SHA-256'],
      [{ ...base, colour: 'blue' }, 'config.colour: unknown key'],
    ];
    for (const [doc, field] of cases) {
      const got = code(() => validateObserveConfig(doc, '/x/observe.yaml'));
      assert.match(got, /^OBSERVE_CONFIG_INVALID: /, JSON.stringify(doc));
      assert.ok(got.includes(field), `${field} not in ${got}`);
    }
  });

  it('unreadable and non-YAML files have their own codes; hostile YAML never throws anything else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emblem-observe-config-'));
    try {
      await assert.rejects(loadObserveConfig(join(dir, 'missing.yaml')), { code: 'OBSERVE_CONFIG_UNREADABLE' });
      writeFileSync(join(dir, 'bad.yaml'), 'targets: [a\n  - : :');
      await assert.rejects(loadObserveConfig(join(dir, 'bad.yaml')), { code: 'OBSERVE_CONFIG_INVALID' });
      await fc.assert(
        fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
          writeFileSync(join(dir, 'f.yaml'), text);
          try {
            await loadObserveConfig(join(dir, 'f.yaml'));
          } catch (err) {
            assert.equal((err as { code: string }).code, 'OBSERVE_CONFIG_INVALID');
          }
        }),
        { numRuns: 200 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('records digest (INCONSISTENT normalisation)', () => {
  const response = (txt: string[], id: number) =>
    dnsPacket.encode({ type: 'response', id, flags: 0, questions: [{ type: 'TXT', name: 'a.example' }], answers: txt.map((t) => ({ type: 'TXT', name: 'a.example', ttl: id, data: [t] })) });

  it('the same records in another order, with other TTLs and IDs, give the same digest; other records another', () => {
    assert.equal(recordsDigest([response(['x', 'y', 'z'], 1)]), recordsDigest([response(['z', 'x', 'y'], 2)]));
    assert.notEqual(recordsDigest([response(['x', 'y'], 1)]), recordsDigest([response(['x', 'y2'], 1)]));
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => typeof recordsDigest([Buffer.from(bytes)]) === 'string'));
  });
});
