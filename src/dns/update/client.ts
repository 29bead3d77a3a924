import { connect } from 'node:net';
import { randomInt } from 'node:crypto';
import { EmblemError } from '../../core/errors.js';
import { toFqdn, type NameKey } from '../domain-name.js';
import { UpdateLimits } from './limits.js';
import { buildUpdateMessage, RCODE_NAMES, type UpdateRecord } from './message.js';
import { signRequest, verifyResponse, type TsigKey } from './tsig.js';

export interface UpdateTarget {
  host: string;
  port: number;
  zone: NameKey;
  key: TsigKey | null;
}

export interface UpdateOptions {
  timeoutMs?: number;
  /** Seconds since the epoch for TSIG's time signed; injected in tests. Default: the clock. */
  nowSeconds?: () => number;
}

function server(t: UpdateTarget): string {
  return `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

/** One DNS message over TCP (RFC 7766 length prefix); resolves with the first complete answer. */
export function tcpRoundTrip(host: string, port: number, message: Buffer, timeoutMs: number): Promise<Buffer> {
  const where = `${host}:${port}`;
  return new Promise<Buffer>((resolve, reject) => {
    const sock = connect({ host, port });
    let pending: Buffer = Buffer.alloc(0);
    let settled = false;
    const done = (err: Error | null, value?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => done(new EmblemError('DNS_UPDATE_UNREACHABLE', `no answer from ${where} within ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (err) => done(new EmblemError('DNS_UPDATE_UNREACHABLE', `cannot reach ${where}: ${err.message}`)));
    sock.on('connect', () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(message.length);
      sock.write(Buffer.concat([prefix, message]));
    });
    sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length > 2 + 65_535) return done(new EmblemError('DNS_RESPONSE_MALFORMED', `${where} sent more than one message`));
      if (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length >= 2 + len) done(null, Buffer.from(pending.subarray(2, 2 + len)));
      }
    });
    sock.on('end', () => done(new EmblemError('DNS_UPDATE_UNREACHABLE', `${where} closed the connection before answering`)));
  });
}

const RCODE_ERRORS: Record<number, string> = {
  5: 'DNS_UPDATE_REFUSED',
  9: 'DNS_UPDATE_NOTAUTH',
  10: 'DNS_UPDATE_NOTZONE',
  2: 'DNS_UPDATE_SERVFAIL',
  1: 'DNS_UPDATE_FORMERR',
  4: 'DNS_UPDATE_NOTIMP',
};

/**
 * Sends one RFC 2136 UPDATE over TCP, TSIG-signed when a key is given, and checks the answer: the response must
 * match the request ID, be signed with the same key (RFC 8945 §5.3), and carry RCODE NOERROR. Every failure is an
 * EmblemError naming the server: DNS_UPDATE_UNREACHABLE, DNS_UPDATE_REFUSED, TSIG_BADSIG, TSIG_BADKEY, ...
 */
export async function sendUpdate(target: UpdateTarget, change: { add: UpdateRecord[]; remove: UpdateRecord[] }, options: UpdateOptions = {}): Promise<void> {
  if (change.add.length === 0 && change.remove.length === 0) return;
  const clock = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  try {
    return await sendUpdateOnce(target, change, options, clock);
  } catch (err) {
    // Our clock is off (the server told us its time in a BADTIME answer signed with our key, so it is
    // authenticated): retry once at the server's time. The server still enforces its own fudge window.
    const serverTime = (err as { serverTime?: number }).serverTime;
    if (!(err instanceof EmblemError) || err.code !== 'TSIG_BADTIME' || serverTime === undefined) throw err;
    const offset = serverTime - clock();
    return sendUpdateOnce(target, change, options, () => clock() + offset);
  }
}

async function sendUpdateOnce(target: UpdateTarget, change: { add: UpdateRecord[]; remove: UpdateRecord[] }, options: UpdateOptions, now: () => number): Promise<void> {
  const id = randomInt(0, 65536);
  const unsigned = buildUpdateMessage(id, target.zone, change);
  const signed = target.key ? signRequest(unsigned, target.key, now(), UpdateLimits.fudgeSeconds) : { message: unsigned, mac: Buffer.alloc(0) };
  const where = server(target);
  const answer = await tcpRoundTrip(target.host, target.port, signed.message, options.timeoutMs ?? UpdateLimits.defaultTimeoutMs);
  if (answer.length < 12 || answer.readUInt16BE(0) !== id || (answer[2]! & 0x80) === 0) {
    throw new EmblemError('DNS_RESPONSE_MALFORMED', `${where} sent an answer that does not match the UPDATE`);
  }
  const rcode = answer[3]! & 0xf;
  if (target.key) verifyResponse(answer, target.key, signed.mac, now(), where);
  if (rcode !== 0) {
    const name = RCODE_NAMES[rcode] ?? `RCODE ${rcode}`;
    throw new EmblemError(RCODE_ERRORS[rcode] ?? 'DNS_UPDATE_FAILED', `${where} answered ${name} to the UPDATE of zone ${toFqdn(target.zone)}`);
  }
}

/**
 * Sends a change of any size. One message is atomic on the primary; a larger change takes several, additions
 * first, then removals (replacements exist before the old records go), a few messages of a phase in flight at once.
 * When one fails, the messages already accepted are undone, last first, so the primary keeps what it had before
 * the change: all or none. A failed undo is reported as CHANNEL_ROLLBACK_FAILED in the message.
 */
export async function sendUpdateBatched(target: UpdateTarget, change: { add: UpdateRecord[]; remove: UpdateRecord[] }, options: UpdateOptions = {}): Promise<void> {
  const max = UpdateLimits.maxRecordsPerMessage;
  if (change.add.length + change.remove.length <= max) return sendUpdate(target, change, options);
  const chunks = (records: UpdateRecord[]) => Array.from({ length: Math.ceil(records.length / max) }, (_, i) => records.slice(i * max, (i + 1) * max));
  const done: Array<{ add: UpdateRecord[]; remove: UpdateRecord[] }> = [];
  const send = async (step: { add: UpdateRecord[]; remove: UpdateRecord[] }) => {
    await sendUpdate(target, step, options);
    done.push(step);
  };
  try {
    await inParallel(chunks(change.add).map((add) => ({ add, remove: [] })), send);
    await inParallel(chunks(change.remove).map((remove) => ({ add: [], remove })), send);
  } catch (err) {
    if (!(err instanceof EmblemError) || done.length === 0) throw err;
    let note = `; the ${done.length} UPDATE message(s) of this change already accepted were undone`;
    for (const d of done.reverse()) {
      try {
        await sendUpdate(target, { add: d.remove, remove: d.add }, options);
      } catch (e) {
        note = `; CHANNEL_ROLLBACK_FAILED: undoing the messages already accepted failed: ${(e as Error).message}`;
        break;
      }
    }
    throw new EmblemError(err.code, `${err.message}${note}`);
  }
}

/** Runs `f` over `items`, UpdateLimits.parallelMessages at a time; the first failure stops new starts and is thrown. */
async function inParallel<T>(items: T[], f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown = null;
  const worker = async () => {
    while (failed === null && next < items.length) {
      const item = items[next++]!;
      try {
        await f(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(UpdateLimits.parallelMessages, items.length) }, worker));
  if (failed !== null) throw failed;
}
