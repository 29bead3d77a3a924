import { readFile } from 'node:fs/promises';
import { EmblemError } from '../../core/errors.js';
import { isAtOrBelow, normalizeUserName, toFqdn } from '../../dns/domain-name.js';
import { sendUpdateBatched } from '../../dns/update/client.js';
import { queryRecords } from '../../dns/update/query.js';
import { parseTsigKeyFile, type TsigKey } from '../../dns/update/tsig.js';
import { OrgLimits } from '../limits.js';
import type { DnsRecord, PublishingChannel } from './channel.js';

export interface Rfc2136Spec {
  host: string;
  port: number;
  zone: string;
}

/** Parses `rfc2136://HOST:PORT/zone` (HOST an IP, [IPv6] bracketed; PORT default 53). */
export function parseRfc2136Url(url: string): Rfc2136Spec {
  const m = /^rfc2136:\/\/(\[[0-9a-fA-F:.]+\]|[^/:]+)(?::(\d{1,5}))?\/([^/]+)\/?$/.exec(url);
  if (!m) throw new EmblemError('CONFIG_INVALID', `channel ${JSON.stringify(url)}: expected rfc2136://HOST[:PORT]/ZONE`);
  const port = m[2] ? Number(m[2]) : 53;
  if (port < 1 || port > 65535) throw new EmblemError('CONFIG_INVALID', `channel ${url}: port out of range`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port, zone: normalizeUserName(m[3]!) };
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** RFC 2136 dynamic UPDATE to a primary, signed with TSIG (HMAC-SHA256); reads by asking the primary directly. */
export class Rfc2136Channel implements PublishingChannel {
  readonly zone: string;
  private constructor(
    readonly id: string,
    private readonly spec: Rfc2136Spec,
    private readonly key: TsigKey | null,
    private readonly types: number[],
    private readonly nowSeconds?: () => number,
  ) {
    this.zone = spec.zone;
  }

  static async open(id: string, tsigKeyFile: string | undefined, options: { ihleType: number; nowSeconds?: () => number; field?: string }): Promise<Rfc2136Channel> {
    const spec = parseRfc2136Url(id);
    let key: TsigKey | null = null;
    if (tsigKeyFile) {
      let text: string;
      try {
        text = await readFile(tsigKeyFile, 'utf8');
      } catch (err) {
        throw new EmblemError('CONFIG_INVALID', `${options.field ?? 'channels'}.tsigKey: cannot read ${tsigKeyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      key = parseTsigKeyFile(text, tsigKeyFile);
    }
    return new Rfc2136Channel(id, spec, key, [16, options.ihleType], options.nowSeconds);
  }

  async read(names: string[]): Promise<DnsRecord[]> {
    const pairs = names.flatMap((n) => this.types.map((t) => [n, t] as const));
    const out = await mapLimit(pairs, OrgLimits.readConcurrency, ([n, t]) => queryRecords(this.spec.host, this.spec.port, n, t, OrgLimits.queryTimeoutMs));
    return out.flat();
  }

  async apply(change: { add: DnsRecord[]; remove: DnsRecord[] }): Promise<void> {
    for (const r of [...change.add, ...change.remove]) {
      if (!isAtOrBelow(r.name, this.zone)) throw new EmblemError('USAGE', `${toFqdn(r.name)} is outside zone ${toFqdn(this.zone)} of ${this.id}`);
    }
    const target = { host: this.spec.host, port: this.spec.port, zone: this.zone, key: this.key };
    const options = this.nowSeconds ? { nowSeconds: this.nowSeconds } : {};
    // All or none on this primary, as across channels (src/org/publish.ts): see sendUpdateBatched.
    await sendUpdateBatched(target, change, options);
  }

  authoritativeServers(): Array<{ host: string; port: number }> {
    return [{ host: this.spec.host, port: this.spec.port }];
  }
}
