import { EmblemError } from '../core/errors.js';
import type { PublishTxt } from './acme.js';

/**
 * DNS-01 through the organisation's own publishing channel. The channel interface is owned by src/org/channels
 * (`PublishingChannel`); only the two members used here are required, structurally, so this file does not depend
 * on which channel (RFC 2136, zone file + reload, ...) is configured.
 */
export interface TxtChannel {
  id: string;
  zone: string;
  apply(change: { add: TxtRecord[]; remove: TxtRecord[] }): Promise<void>;
}

/** The channel's record shape (`DnsRecord`): owner name, RR type number, TTL, wire-format RDATA. */
export interface TxtRecord {
  name: string;
  type: number;
  ttl: number;
  rdata: Uint8Array;
}

const TXT = 16;
/** RFC 8555 §8.4 does not fix a TTL; a short one keeps resolvers from caching a stale challenge between retries. */
const CHALLENGE_TTL = 60;

/** TXT RDATA (RFC 1035 §3.3.14): length-prefixed character-strings of at most 255 bytes each. */
export function txtRdata(value: string): Uint8Array {
  const bytes = new TextEncoder().encode(value);
  const parts: number[] = [];
  let i = 0;
  do {
    const chunk = bytes.subarray(i, i + 255);
    parts.push(chunk.length, ...chunk);
    i += 255;
  } while (i < bytes.length);
  return Uint8Array.from(parts);
}

function inZone(name: string, zone: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const z = zone.toLowerCase().replace(/\.$/, '');
  return n === z || n.endsWith(`.${z}`);
}

/**
 * A `publishTxt` for {@link obtainBindingCertificate} that adds the challenge record through the first channel
 * whose zone contains the name (every configured channel serving that zone, so secondaries agree), and removes
 * it again on cleanup.
 */
export function publishTxtViaChannels(channels: readonly TxtChannel[], ttl = CHALLENGE_TTL): PublishTxt {
  return async (name, value) => {
    const targets = channels.filter((c) => inZone(name, c.zone));
    if (targets.length === 0) throw new EmblemError('DNS01_PUBLISH_FAILED', `no publishing channel serves a zone containing ${name}`);
    const record: TxtRecord = { name: name.replace(/\.$/, ''), type: TXT, ttl, rdata: txtRdata(value) };
    const done: TxtChannel[] = [];
    try {
      for (const c of targets) {
        await c.apply({ add: [record], remove: [] });
        done.push(c);
      }
    } catch (err) {
      // Take back what was added, so a failed publication leaves no stray challenge behind.
      for (const c of done) await c.apply({ add: [], remove: [record] }).catch(() => {});
      throw new EmblemError('DNS01_PUBLISH_FAILED', `channel ${targets[done.length]?.id ?? '?'}: ${(err as Error).message}`, { cause: err });
    }
    return async () => {
      for (const c of targets) await c.apply({ add: [], remove: [record] });
    };
  };
}
