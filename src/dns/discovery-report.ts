// Types only, without dns-packet or sockets, so browser code (the extension's DoH discovery) can share them.

export type DiscoveryEra = 'jws' | 'cwt' | 'any';

/** One question asked during discovery, as reported in `discovery.queries`. */
export interface DiscoveryQuery {
  qtype: string;
  transport: 'udp' | 'tcp' | 'doh';
  truncated: boolean;
  rcode: string;
  answers: number;
  additionals: number;
  ad: boolean;
}

/** How the records were found: the `discovery` object of `emblem check --json`. */
export interface DiscoveryReport {
  resolver: string;
  /** The transport that delivered the emblem records (tcp when a truncated UDP answer was retried). */
  transport: 'udp' | 'tcp' | 'doh';
  truncated: boolean;
  /** DNSSEC AD bit as the resolver reported it (true only if every answer had it). Never counts as ADEM validation. */
  ad: boolean;
  rcode: string;
  records: { txt: number; ademTxt: number; ihle: number; ihleFromAdditional: number };
  queries: DiscoveryQuery[];
}
