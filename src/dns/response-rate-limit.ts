import { isIPv4 } from 'node:net';
import { DnsLimits } from './limits.js';

/** What to do with one UDP response under response rate limiting. */
export type RrlDecision = 'send' | 'slip' | 'drop';

interface Bucket {
  tokens: number;
  at: number;
  limited: number;
}

/**
 * Response rate limiting (RRL) in the manner of NSD, Knot and BIND: identical responses (same answer class) to
 * one client network earn `rate` credits per second, at most `rate` banked. Beyond that a response is dropped,
 * except every `slip`-th, which is sent truncated (TC=1, no records): a real client behind a spoofed address
 * retries over TCP, while the spoofed victim gets at most a header-sized packet. The table is bounded.
 */
export class ResponseRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly rate: number,
    readonly slip: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** `client` is the peer as "a.b.c.d:port" or "[v6]:port"; `answerClass` groups identical responses. */
  check(client: string, answerClass: string): RrlDecision {
    const key = `${clientNetwork(client)}\u0000${answerClass}`;
    const now = this.clock();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= DnsLimits.maxRrlBuckets) this.prune(now);
      b = { tokens: this.rate, at: now, limited: 0 };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.rate, b.tokens + ((now - b.at) * this.rate) / 1000);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 'send';
    }
    b.limited++;
    return this.slip > 0 && b.limited % this.slip === 0 ? 'slip' : 'drop';
  }

  private prune(now: number): void {
    for (const [key, b] of this.buckets) if (now - b.at >= 1000) this.buckets.delete(key);
    // Still full: a flood of distinct sources; start over rather than grow.
    if (this.buckets.size >= DnsLimits.maxRrlBuckets) this.buckets.clear();
  }
}

/** The client's network (IPv4 /24, IPv6 /56 by default) as a string key. */
export function clientNetwork(peer: string): string {
  const host = peer.startsWith('[') ? peer.slice(1, peer.indexOf(']')) : peer.slice(0, peer.lastIndexOf(':'));
  if (isIPv4(host)) return ipv4Prefix(host, DnsLimits.rrlIpv4PrefixBits);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) return ipv4Prefix(mapped[1]!, DnsLimits.rrlIpv4PrefixBits);
  return ipv6Prefix(host, DnsLimits.rrlIpv6PrefixBits);
}

function ipv4Prefix(host: string, bits: number): string {
  const n = host.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  return `${n - (n % 2 ** (32 - bits))}/${bits}`;
}

function ipv6Prefix(host: string, bits: number): string {
  const [head, tail] = host.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  const out: string[] = [];
  let left = bits;
  for (const g of groups.slice(0, 8)) {
    if (left <= 0) break;
    const v = parseInt(g || '0', 16) || 0;
    const keep = Math.min(16, left);
    out.push(((v >> (16 - keep)) << (16 - keep)).toString(16));
    left -= keep;
  }
  return `${out.join(':')}/${bits}`;
}
