/**
 * The seam between `emblem org` and the DNS: one publishing protocol per implementation (RFC 2136, zone file,
 * octoDNS). `org apply` and `org withdraw` use it for emblem records; `org cert` uses the same interface to publish
 * ACME DNS-01 challenges (`_acme-challenge.<host>` TXT) through the organisation's own channel.
 */
export interface DnsRecord {
  /** Owner name: lower case, no trailing dot (a NameKey). */
  name: string;
  /** RR type code (16 TXT, the IHLE code, ...). */
  type: number;
  ttl: number;
  /** Wire-format RDATA. */
  rdata: Uint8Array;
}

export interface PublishingChannel {
  /** As written in the config: "rfc2136://127.0.0.1:5300/hospital.example", "zonefile:/path", "octodns:/path". */
  id: string;
  /** The zone this channel can change (NameKey). */
  zone: string;
  /** The TXT and IHLE records at these names as the channel sees them now ([] for write-only channels). */
  read(names: string[]): Promise<DnsRecord[]>;
  /** Removes and adds records in one step; atomic where the protocol allows (one UPDATE message, one file rename). */
  apply(change: { add: DnsRecord[]; remove: DnsRecord[] }): Promise<void>;
  /** Servers that answer authoritatively for `zone` and must be asked to verify ([] = cannot be verified: write-only). */
  authoritativeServers(): Array<{ host: string; port: number }>;
}

export function recordKey(r: DnsRecord): string {
  return `${r.name}|${r.type}|${Buffer.from(r.rdata).toString('hex')}`;
}
