// Webhook alerts (issue 12 "Alerts", acceptance 1's HMAC and acceptance 8's unreachable webhook) against a real
// local HTTP receiver: valid signature, exactly-once processing with a retry, dead letters, a caller never blocked.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AlertErrorCodes } from '../../src/observatory/alerts/errors.js';
import { signWebhookBody, verifyWebhookSignature, WebhookSender, type WebhookSenderOptions } from '../../src/observatory/alerts/webhook.js';

const SECRET = 'test-secret-\u00e9';
const NOW = new Date('2026-03-01T12:00:00.000Z');
const dir = mkdtempSync(join(tmpdir(), 'emblem-webhook-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver on 127.0.0.1 that records every request and answers with `respond`. */
async function startReceiver(respond: (r: Received, res: ServerResponse, req: IncomingMessage) => void): Promise<{
  url: string;
  requests: Received[];
  close(): Promise<void>;
}> {
  const requests: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      respond(r, res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sender(url: string, extra: Partial<WebhookSenderOptions> = {}): { sender: WebhookSender; sleeps: number[]; deadLetterFile: string } {
  const sleeps: number[] = [];
  const deadLetterFile = join(dir, `dead-${++files}.jsonl`);
  let n = 0;
  const s = new WebhookSender({
    url,
    secret: SECRET,
    deadLetterFile,
    now: () => NOW,
    random: () => 1, // no jitter: delays are exactly 2^n * initial
    newDeliveryId: () => `d${++n}`,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { sender: s, sleeps, deadLetterFile };
}

function deadLetters(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('each alert is POSTed as signed JSON: the HMAC-SHA256 of the raw body verifies, the delivery id is in header and body', async () => {
  const receiver = await startReceiver((_r, res) => res.writeHead(204).end());
  try {
    const { sender: s, deadLetterFile } = sender(receiver.url);
    const event = { type: 'EMBLEM_MISSING', target: 'a.example', opened: '2026-03-01T11:59:40.000Z', text: 'caf\u00e9 \u{1f6a8}' };
    const id = s.send(event);
    const stats = await s.close();
    assert.deepEqual(stats, { queued: 0, delivered: 1, deadLettered: 0 });
    assert.equal(receiver.requests.length, 1);
    const r = receiver.requests[0]!;
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['x-emblem-delivery'], id);
    const signature = r.headers['x-emblem-signature'] as string;
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.ok(verifyWebhookSignature(SECRET, r.body, signature));
    assert.ok(!verifyWebhookSignature('other-secret', r.body, signature));
    assert.ok(!verifyWebhookSignature(SECRET, r.body.replace('a.example', 'b.example'), signature));
    assert.deepEqual(JSON.parse(r.body), { delivery: id, sent: NOW.toISOString(), event });
    assert.equal(signWebhookBody(SECRET, r.body), signature);
    assert.deepEqual(deadLetters(deadLetterFile), []);
  } finally {
    await receiver.close();
  }
});

test('a lost response is retried with the same delivery id: the receiver processes each alert exactly once', async () => {
  const processed = new Map<string, number>();
  // The receiver processes each delivery, but the first time drops the connection before answering (the sender
  // cannot know it arrived); repeats of a delivery id it has seen are acknowledged and not processed again.
  const receiver = await startReceiver((r, res, req) => {
    const id = r.headers['x-emblem-delivery'] as string;
    if (!verifyWebhookSignature(SECRET, r.body, r.headers['x-emblem-signature'] as string)) return void res.writeHead(401).end();
    if (processed.has(id)) return void res.writeHead(200).end('duplicate');
    processed.set(id, (processed.get(id) ?? 0) + 1);
    req.socket.destroy();
  });
  try {
    const { sender: s, sleeps } = sender(receiver.url);
    const ids = Array.from({ length: 5 }, (_, i) => s.send({ type: 'LEVEL_DROPPED', target: `t${i}.example` }));
    const stats = await s.close();
    assert.deepEqual(stats, { queued: 0, delivered: 5, deadLettered: 0 });
    assert.deepEqual([...processed.entries()].sort(), ids.map((id) => [id, 1]).sort());
    // Two requests per alert, both with the same id, body and signature.
    assert.equal(receiver.requests.length, 10);
    for (const id of ids) {
      const tries = receiver.requests.filter((r) => r.headers['x-emblem-delivery'] === id);
      assert.equal(tries.length, 2);
      assert.equal(tries[0]!.body, tries[1]!.body);
      assert.deepEqual(tries.map((t) => t.headers['x-emblem-attempt']), ['1', '2']);
    }
    assert.deepEqual(sleeps, [1000, 1000, 1000, 1000, 1000]);
  } finally {
    await receiver.close();
  }
});

test('an unreachable receiver: exponential backoff, then every alert is in the dead-letter file (fsynced JSON lines)', async () => {
  // A port with nothing listening: connection refused on every attempt.
  const port = await new Promise<number>((resolve) => {
    const s = createTcpServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const { sender: s, sleeps, deadLetterFile } = sender(`http://user:pw@127.0.0.1:${port}/hook`, {
    maxAttempts: 4,
    initialBackoffMs: 500,
    maxBackoffMs: 1500,
    concurrency: 1,
  });
  s.send({ type: 'EMBLEM_MISSING', target: 'a.example' });
  s.send({ type: 'KEY_CHANGED', target: 'b.example' });
  const stats = await s.close();
  assert.deepEqual(stats, { queued: 0, delivered: 0, deadLettered: 2 });
  // Two alerts' retries interleave (a waiting retry frees its slot); per alert: 500, 1000, then capped at 1500.
  assert.deepEqual(sleeps.sort((a, b) => a - b), [500, 500, 1000, 1000, 1500, 1500]);
  const lines = deadLetters(deadLetterFile).sort((a, b) => String(a.delivery).localeCompare(String(b.delivery)));
  assert.deepEqual(
    lines.map((l) => [l.reason, l.attempts, l.delivery, (l.body as { event: { target: string } }).event.target, l.deadLettered]),
    [
      [AlertErrorCodes.WEBHOOK_DELIVERY_FAILED, 4, 'd1', 'a.example', NOW.toISOString()],
      [AlertErrorCodes.WEBHOOK_DELIVERY_FAILED, 4, 'd2', 'b.example', NOW.toISOString()],
    ],
  );
  assert.equal(lines[0]!.url, `http://127.0.0.1:${port}/hook`, 'credentials are not written to the file');
  assert.match(String(lines[0]!.error), /ECONNREFUSED|connect/);
});

test('a receiver that refuses an alert for good (HTTP 400) is not retried: dead-lettered after one attempt', async () => {
  const receiver = await startReceiver((_r, res) => res.writeHead(400).end('bad'));
  try {
    const { sender: s, sleeps, deadLetterFile } = sender(receiver.url);
    s.send({ type: 'EXPIRING', target: 'a.example' });
    await s.close();
    assert.equal(receiver.requests.length, 1);
    assert.deepEqual(sleeps, []);
    assert.deepEqual(deadLetters(deadLetterFile).map((l) => [l.reason, l.attempts]), [[AlertErrorCodes.WEBHOOK_REJECTED, 1]]);
  } finally {
    await receiver.close();
  }
});

test('the caller is never blocked: a hung receiver, a full queue and close() all end in the dead-letter file', async () => {
  // Accepts requests and never answers.
  const receiver = await startReceiver(() => {});
  try {
    const { sender: s, deadLetterFile } = sender(receiver.url, { maxQueue: 10, concurrency: 2, closeTimeoutMs: 300 });
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const id = s.send({ type: 'INCONSISTENT', target: `t${i}.example` });
      assert.equal(typeof id, 'string'); // returned at once, synchronously
      ids.push(id);
    }
    // Already decided without waiting: 10 queued, 40 overflowed.
    assert.equal(s.stats.queued, 10);
    assert.equal(s.stats.deadLettered, 40);
    const stats = await s.close();
    s.send({ type: 'INCONSISTENT', target: 'late.example' }); // after close: to the dead-letter file, not lost
    await s.close();
    assert.equal(stats.delivered, 0);
    const lines = deadLetters(deadLetterFile);
    assert.equal(lines.length, 51);
    assert.deepEqual(new Set(lines.map((l) => l.delivery)), new Set([...ids, 'd51']));
    const reasons = lines.map((l) => l.reason);
    assert.equal(reasons.filter((r) => r === AlertErrorCodes.WEBHOOK_QUEUE_FULL).length, 40);
    assert.equal(reasons.filter((r) => r === AlertErrorCodes.WEBHOOK_CLOSED).length, 11);
  } finally {
    await receiver.close();
  }
});

test('bad configuration and bad alerts are refused with stable codes', () => {
  const base = { secret: 's', deadLetterFile: join(dir, 'never.jsonl') };
  assert.throws(() => new WebhookSender({ ...base, url: 'ftp://example.org/x' }), { code: AlertErrorCodes.WEBHOOK_URL_INVALID });
  assert.throws(() => new WebhookSender({ ...base, url: 'not a url' }), { code: AlertErrorCodes.WEBHOOK_URL_INVALID });
  assert.throws(() => new WebhookSender({ ...base, url: 'https://example.org/x', secret: '' }), { code: AlertErrorCodes.WEBHOOK_SECRET_INVALID });
  const s = new WebhookSender({ ...base, url: 'https://example.org/x' });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => s.send(cyclic), { code: AlertErrorCodes.WEBHOOK_EVENT_INVALID });
  assert.throws(() => s.send({ big: 'x'.repeat(300 * 1024) }), { code: AlertErrorCodes.WEBHOOK_EVENT_INVALID });
  assert.equal(s.stats.queued, 0);
});
