import { EmblemError } from '../../core/errors.js';
import { normalizeUserName } from '../../dns/domain-name.js';
import type { ChannelConfig } from '../config.js';
import type { PublishingChannel } from './channel.js';
import { OctodnsChannel } from './octodns.js';
import { Rfc2136Channel } from './rfc2136.js';
import { ZoneFileChannel } from './zonefile.js';

export type { DnsRecord, PublishingChannel } from './channel.js';

function hostPort(text: string, field: string): { host: string; port: number } {
  const m = /^\[?([0-9a-fA-F:.]+)\]?:(\d{1,5})$/.exec(text);
  if (!m) throw new EmblemError('CONFIG_INVALID', `${field}: expected IP:PORT, got ${JSON.stringify(text)}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** Opens the channels of the config (paths relative to the folder were resolved by the caller). */
export async function openChannels(channels: ChannelConfig[], options: { host: string; ihleType: number; resolvePath: (p: string) => string }): Promise<PublishingChannel[]> {
  const out: PublishingChannel[] = [];
  for (const [i, c] of channels.entries()) {
    const field = `config.channels[${i}]`;
    const zone = normalizeUserName(c.zone ?? options.host);
    if (c.url.startsWith('rfc2136://')) out.push(await Rfc2136Channel.open(c.url, c.tsigKey ? options.resolvePath(c.tsigKey) : undefined, { ihleType: options.ihleType, field }));
    else if (c.url.startsWith('zonefile:')) {
      out.push(new ZoneFileChannel(c.url, options.resolvePath(c.url.slice('zonefile:'.length)), zone, c.reloadCommand, (c.servers ?? []).map((s, j) => hostPort(s, `${field}.servers[${j}]`)), options.ihleType));
    } else if (c.url.startsWith('octodns:')) out.push(new OctodnsChannel(c.url, options.resolvePath(c.url.slice('octodns:'.length)), zone, options.ihleType));
    else throw new EmblemError('CONFIG_INVALID', `${field}.url: unknown channel ${JSON.stringify(c.url)}`);
  }
  return out;
}
