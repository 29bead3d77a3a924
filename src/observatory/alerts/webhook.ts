import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { open } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname } from 'node:path';
import { EmblemError } from '../../core/errors.js';
import { syncDirectory } from '../../store/atomic-write.js';
import { AlertErrorCodes } from './errors.js';
import { AlertLimits } from './limits.js';

/**
 * Alerts to a webhook receiver (issue 12 "Alerts"). send() only enqueues and returns at once: observation never
 * waits for a receiver. Deliveries run in the background, a few at a time, each retried with exponential backoff
 * (jittered) until it succeeds, the receiver refuses it for good, or the attempts run out; then it goes to the
 * dead-letter file. Nothing is dropped silently: a full queue and close() also end in that file.
 *
 * Wire format (what a receiver checks):
 *   POST <url>   Content-Type: application/json
 *   body                 {"delivery": "<id>", "sent": "<ISO time when enqueued>", "event": <the alert>}
 *   X-Emblem-Delivery    <id>: the same on every attempt of one alert, so a receiver drops repeats (a retry
 *                        after a lost response) and processes each alert exactly once
 *   X-Emblem-Signature   sha256=<hex HMAC-SHA256 of the raw body bytes, keyed with the shared secret>
 *   X-Emblem-Attempt     1, 2, ... (informational)
 * The delivery id is inside the signed body too, so a captured request cannot be replayed under a fresh id.
 * Any 2xx is success; 408, 425, 429, 5xx and network errors/timeouts are retried; other statuses are final.
 *
 * Dead-letter file: JSON lines {"deadLettered", "reason", "error", "attempts", "url", "delivery", "body"}, each
 * appended with one write and fsynced before close() resolves. A crash mid-write can leave only an unterminated
 * last line, which readers skip. `body` is the exact envelope, so an operator can re-send it with the same
 * delivery id (the receiver still drops it if it had arrived after all).
 */

export type WebhookEvent = Record<string, unknown>;

export interface WebhookSenderOptions {
  url: string;
  secret: string;
  /** JSON-lines file for alerts that could not be delivered (created 0600 if missing). */
  deadLetterFile: string;
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
  maxQueue?: number;
  concurrency?: number;
  closeTimeoutMs?: number;
  /** Waits between attempts (tests pass one that returns at once and records the delays). Resolves early (or
   *  rejects) when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The clock for the envelope's `sent` and the dead-letter `deadLettered` times. */
  now?: () => Date;
  /** In [0, 1): jitter. The delay before retry n is backoff(n) * (0.5 + 0.5 * random()). */
  random?: () => number;
  newDeliveryId?: () => string;
  /** Progress for the service's JSON log (delivered, retrying, dead-lettered). Must not throw. */
  onProgress?: (progress: WebhookProgress) => void;
}

export type WebhookProgress =
  | { kind: 'delivered'; delivery: string; attempts: number; status: number }
  | { kind: 'retrying'; delivery: string; attempt: number; delayMs: number; error: string }
  | { kind: 'dead-lettered'; delivery: string; reason: string; error: string; attempts: number }
  | { kind: 'dead-letter-failed'; delivery: string; error: string };

export interface WebhookSenderStats {
  queued: number;
  delivered: number;
  deadLettered: number;
}

interface Delivery {
  id: string;
  body: string;
  attempts: number;
}

/** `sha256=<hex>`: the X-Emblem-Signature value of `body` under `secret`. */
export function signWebhookBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers (and tests): does `header` carry the right signature of the raw `body`? Constant-time compare. */
export function verifyWebhookSignature(secret: string, body: string | Uint8Array, header: string | undefined): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signWebhookBody(secret, body));
  const got = Buffer.from(header);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

const realSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class WebhookSender {
  private readonly url: URL;
  private readonly secret: string;
  private readonly deadLetterFile: string;
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxQueue: number;
  private readonly concurrency: number;
  private readonly closeTimeoutMs: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly newDeliveryId: () => string;
  private readonly onProgress: (progress: WebhookProgress) => void;

  /** Waiting for a free delivery slot. */
  private readonly ready: Delivery[] = [];
  /** In flight or waiting for a retry. */
  private readonly busy = new Set<Delivery>();
  private active = 0;
  private closed = false;
  /** Aborted when close() gives up: cancels in-flight requests and backoff sleeps. */
  private readonly abort = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private deadLetterChain: Promise<void> = Promise.resolve();
  private deadLetterError: unknown;
  private deadLetterDirSynced = false;
  private readonly counts = { delivered: 0, deadLettered: 0 };

  constructor(options: WebhookSenderOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new EmblemError(AlertErrorCodes.WEBHOOK_URL_INVALID, 'the webhook URL is malformed');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EmblemError(AlertErrorCodes.WEBHOOK_URL_INVALID, `the webhook URL must be http: or https:, not ${url.protocol}`);
    }
    if (typeof options.secret !== 'string' || options.secret.length === 0) {
      throw new EmblemError(AlertErrorCodes.WEBHOOK_SECRET_INVALID, 'a webhook needs a non-empty secret (receivers verify the HMAC)');
    }
    this.url = url;
    this.secret = options.secret;
    this.deadLetterFile = options.deadLetterFile;
    this.maxAttempts = positive(options.maxAttempts, AlertLimits.webhookMaxAttempts);
    this.initialBackoffMs = positive(options.initialBackoffMs, AlertLimits.webhookInitialBackoffMs);
    this.maxBackoffMs = positive(options.maxBackoffMs, AlertLimits.webhookMaxBackoffMs);
    this.requestTimeoutMs = positive(options.requestTimeoutMs, AlertLimits.webhookRequestTimeoutMs);
    this.maxQueue = positive(options.maxQueue, AlertLimits.webhookMaxQueue);
    this.concurrency = positive(options.concurrency, AlertLimits.webhookConcurrency);
    this.closeTimeoutMs = positive(options.closeTimeoutMs, AlertLimits.webhookCloseTimeoutMs);
    this.sleep = options.sleep ?? realSleep;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.newDeliveryId = options.newDeliveryId ?? randomUUID;
    this.onProgress = options.onProgress ?? (() => {});
  }

  get stats(): WebhookSenderStats {
    return { queued: this.ready.length + this.busy.size, ...this.counts };
  }

  /**
   * Enqueues one alert and returns at once with its delivery id. Throws only for a caller bug (not JSON, too
   * large); a full queue or a closed sender writes the alert to the dead-letter file instead.
   */
  send(event: WebhookEvent): string {
    const id = this.newDeliveryId();
    let body: string;
    try {
      body = JSON.stringify({ delivery: id, sent: this.now().toISOString(), event });
    } catch (err) {
      throw new EmblemError(AlertErrorCodes.WEBHOOK_EVENT_INVALID, `the alert is not JSON-serialisable: ${(err as Error).message}`);
    }
    if (typeof body !== 'string' || Buffer.byteLength(body) > AlertLimits.maxWebhookBodyBytes) {
      throw new EmblemError(AlertErrorCodes.WEBHOOK_EVENT_INVALID, `the alert is larger than ${AlertLimits.maxWebhookBodyBytes} bytes`);
    }
    const delivery: Delivery = { id, body, attempts: 0 };
    if (this.closed) {
      this.deadLetter(delivery, AlertErrorCodes.WEBHOOK_CLOSED, 'the webhook sender was closed before this alert was sent');
    } else if (this.ready.length + this.busy.size >= this.maxQueue) {
      this.deadLetter(delivery, AlertErrorCodes.WEBHOOK_QUEUE_FULL, `${this.maxQueue} alerts are already waiting for this receiver`);
    } else {
      this.ready.push(delivery);
      this.pump();
    }
    return id;
  }

  /**
   * Stops taking alerts, waits until every queued alert is delivered or dead-lettered (at most closeTimeoutMs;
   * then in-flight requests are aborted and the rest is dead-lettered), and waits for the dead-letter file to be
   * synced. Throws WEBHOOK_DEAD_LETTER_FAILED if that file could not be written: alerts would otherwise be lost.
   */
  async close(): Promise<WebhookSenderStats> {
    this.closed = true;
    if (this.ready.length + this.busy.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.closeTimeoutMs);
      });
      await Promise.race([this.idle(), deadline]);
      clearTimeout(timer);
      if (this.ready.length + this.busy.size > 0) {
        this.abort.abort();
        for (const d of this.ready.splice(0)) {
          this.deadLetter(d, AlertErrorCodes.WEBHOOK_CLOSED, 'the webhook sender closed before this alert was delivered');
        }
        // In-flight and sleeping deliveries see the abort and dead-letter themselves.
        await this.idle();
      }
    }
    await this.deadLetterChain;
    if (this.deadLetterError !== undefined) {
      throw new EmblemError(
        AlertErrorCodes.WEBHOOK_DEAD_LETTER_FAILED,
        `could not write the webhook dead-letter file ${this.deadLetterFile}: ${(this.deadLetterError as Error).message}`,
        { cause: this.deadLetterError },
      );
    }
    return this.stats;
  }

  private idle(): Promise<void> {
    if (this.ready.length + this.busy.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.active < this.concurrency && this.ready.length > 0) {
      const d = this.ready.shift()!;
      this.busy.add(d);
      this.active++;
      void this.attempt(d);
    }
  }

  /** One attempt; on a retryable failure, frees the slot while it waits, then re-queues. */
  private async attempt(d: Delivery): Promise<void> {
    d.attempts++;
    let outcome: AttemptOutcome;
    try {
      outcome = await this.post(d);
    } catch (err) {
      outcome = { kind: 'retry', error: (err as Error).message || String(err) };
    }
    this.active--;
    if (outcome.kind === 'ok') {
      this.counts.delivered++;
      this.onProgress({ kind: 'delivered', delivery: d.id, attempts: d.attempts, status: outcome.status });
      this.finish(d);
    } else if (outcome.kind === 'final') {
      this.deadLetter(d, AlertErrorCodes.WEBHOOK_REJECTED, outcome.error);
      this.finish(d);
    } else if (this.abort.signal.aborted) {
      this.deadLetter(d, AlertErrorCodes.WEBHOOK_CLOSED, `closed while delivering (last error: ${outcome.error})`);
      this.finish(d);
    } else if (d.attempts >= this.maxAttempts) {
      this.deadLetter(d, AlertErrorCodes.WEBHOOK_DELIVERY_FAILED, outcome.error);
      this.finish(d);
    } else {
      const delayMs = this.backoff(d.attempts);
      this.onProgress({ kind: 'retrying', delivery: d.id, attempt: d.attempts, delayMs, error: outcome.error });
      this.pump(); // the slot serves others while this one waits
      try {
        await this.sleep(delayMs, this.abort.signal);
      } catch {
        // an aborted sleep: handled below
      }
      if (this.abort.signal.aborted) {
        this.deadLetter(d, AlertErrorCodes.WEBHOOK_CLOSED, `closed while waiting to retry (last error: ${outcome.error})`);
        this.finish(d);
      } else {
        this.busy.delete(d);
        this.ready.push(d);
      }
    }
    this.pump();
  }

  private finish(d: Delivery): void {
    this.busy.delete(d);
    if (this.ready.length + this.busy.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Delay before retry n (n >= 1): initial * 2^(n-1), capped, times a jitter factor in [0.5, 1]. */
  private backoff(n: number): number {
    const base = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(n - 1, 30));
    return Math.round(base * (0.5 + 0.5 * Math.min(1, Math.max(0, this.random()))));
  }

  private post(d: Delivery): Promise<AttemptOutcome> {
    const body = Buffer.from(d.body);
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<AttemptOutcome>((resolve) => {
      let settled = false;
      const settle = (o: AttemptOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const req = send(this.url, {
        method: 'POST',
        agent: false, // one connection per attempt: alerts are rare, and no idle socket outlives close()
        signal: this.abort.signal,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': body.length,
          'User-Agent': 'emblem-observatory',
          'X-Emblem-Delivery': d.id,
          'X-Emblem-Signature': signWebhookBody(this.secret, body),
          'X-Emblem-Attempt': String(d.attempts),
        },
      });
      const timer = setTimeout(() => {
        req.destroy(new Error(`no response within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      req.on('error', (err) => settle({ kind: 'retry', error: err.message || String(err) }));
      req.on('response', (res: IncomingMessage) => {
        drain(res);
        settle(classifyStatus(res.statusCode ?? 0));
      });
      req.end(body);
    });
  }

  private deadLetter(d: Delivery, reason: string, error: string): void {
    this.counts.deadLettered++;
    this.onProgress({ kind: 'dead-lettered', delivery: d.id, reason, error, attempts: d.attempts });
    const line = `${JSON.stringify({
      deadLettered: this.now().toISOString(),
      reason,
      error,
      attempts: d.attempts,
      url: redactedUrl(this.url),
      delivery: d.id,
      body: JSON.parse(d.body) as unknown,
    })}\n`;
    this.deadLetterChain = this.deadLetterChain.then(async () => {
      try {
        await this.appendDeadLetter(line);
      } catch (err) {
        this.deadLetterError ??= err;
        this.onProgress({ kind: 'dead-letter-failed', delivery: d.id, error: (err as Error).message });
      }
    });
  }

  private async appendDeadLetter(line: string): Promise<void> {
    const handle = await open(this.deadLetterFile, 'a', 0o600);
    try {
      await handle.write(line); // one write with O_APPEND: lines never interleave
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (!this.deadLetterDirSynced) {
      await syncDirectory(dirname(this.deadLetterFile)); // the file's creation survives a crash too
      this.deadLetterDirSynced = true;
    }
  }
}

type AttemptOutcome = { kind: 'ok'; status: number } | { kind: 'retry'; error: string } | { kind: 'final'; error: string };

function classifyStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'ok', status };
  if (status === 408 || status === 425 || status === 429 || status >= 500) return { kind: 'retry', error: `HTTP ${status}` };
  return { kind: 'final', error: `HTTP ${status} (not retried)` };
}

/** Reads and discards the response (only the status matters), dropping the connection past the size bound. */
function drain(res: IncomingMessage): void {
  let bytes = 0;
  res.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > AlertLimits.maxWebhookResponseBytes) res.destroy();
  });
  res.on('error', () => {});
}

/** The URL without user:password, for the dead-letter file and logs. */
function redactedUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

function positive(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new EmblemError('USAGE', `webhook option must be a positive number, got ${value}`);
  return value;
}
