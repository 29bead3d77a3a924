import { readFile } from 'node:fs/promises';
import { EmblemError } from '../../core/errors.js';
import { renderOctodnsYaml } from '../../dns/octodns-yaml.js';
import type { ZoneRecord } from '../../dns/zone-file.js';
import { writeFileAtomic } from '../../store/atomic-write.js';
import type { DnsRecord, PublishingChannel } from './channel.js';
import { recordKey } from './channel.js';

/**
 * octoDNS YAML for a cloud DNS provider (write-only): the emblem records are kept in a sidecar JSON next to the
 * YAML (`PATH.emblem.json`) and the YAML is regenerated from it; the operator runs `octodns-sync --doit`.
 * Nothing can be verified from here ([] authoritative servers): verification happens once the provider serves it.
 */
export class OctodnsChannel implements PublishingChannel {
  constructor(
    readonly id: string,
    private readonly path: string,
    readonly zone: string,
    private readonly ihleType: number,
  ) {}

  private async records(): Promise<DnsRecord[]> {
    try {
      const rows = JSON.parse(await readFile(`${this.path}.emblem.json`, 'utf8')) as Array<{ name: string; type: number; ttl: number; rdata: string }>;
      return rows.map((r) => ({ ...r, rdata: Buffer.from(r.rdata, 'hex') }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new EmblemError('CHANNEL_UNAVAILABLE', `${this.id}: ${this.path}.emblem.json is damaged`);
    }
  }

  async read(names: string[]): Promise<DnsRecord[]> {
    const wanted = new Set(names);
    return (await this.records()).filter((r) => wanted.has(r.name));
  }

  async apply(change: { add: DnsRecord[]; remove: DnsRecord[] }): Promise<void> {
    const gone = new Set(change.remove.map(recordKey));
    const records = (await this.records()).filter((r) => !gone.has(recordKey(r)));
    const present = new Set(records.map(recordKey));
    for (const r of change.add) if (!present.has(recordKey(r))) records.push(r);
    const zoneRecords: ZoneRecord[] = records.map((r) => ({ owner: r.name, type: r.type, ttl: r.ttl, rdata: Buffer.from(r.rdata) }));
    await writeFileAtomic(this.path, renderOctodnsYaml({ origin: this.zone, records: zoneRecords }, this.ihleType));
    await writeFileAtomic(`${this.path}.emblem.json`, JSON.stringify(records.map((r) => ({ ...r, rdata: Buffer.from(r.rdata).toString('hex') }))));
  }

  authoritativeServers(): Array<{ host: string; port: number }> {
    return [];
  }
}
