import { Command, Option } from 'commander';
import { DnsLimits } from '../../dns/limits.js';
import { DEFAULT_IHLE_TYPE } from '../../dns/rr-type.js';
import type { RecordsFlags, ServeFlags, ZoneFlags } from './dns-actions.js';

// Registration only: the actions (zone parsing, the authoritative server, DoH) live in dns-actions.ts and are loaded
// when a dns subcommand runs, so that `emblem verify` and the others do not pay for them at start-up.

const collect = (value: string, previous: string[] = []) => [...previous, value];

function eraOption(): Option {
  return new Option('--era <era>', 'which records: jws = DNS-01 TXT, cwt = DNS-02 IHLE, both').choices(['jws', 'cwt', 'both']).default('both');
}

function ihleTypeOption(): Option {
  return new Option('--ihle-type <code>', 'RR type code for IHLE (unassigned by IANA; GO-CWT uses 65400, its CoreDNS plugin 65297)').default(String(DEFAULT_IHLE_TYPE));
}

export function registerDns(program: Command): void {
  const dns = program.command('dns').description('publish emblems in the DNS (DNS-01 TXT, DNS-02 IHLE) and serve them');

  dns
    .command('records')
    .description('print the DNS records that publish the given tokens and keys')
    .argument('<files...>', 'token/key files: JWS lines, adem-token=/adem-key= values (dig quoting ok), JWK JSON, PEM public keys, CWT/COSE_Key hex lines or binary CBOR')
    .option('--name <name>', 'owner name; prints complete resource records ("NAME TTL IN TYPE RDATA")')
    .option('--id <identifier>', 'DNS-01 identifier for records that have none (adem-token-ID=...), to publish several token sets at one name')
    .addOption(eraOption())
    .option('--ttl <seconds>', 'TTL', '3600')
    .addOption(ihleTypeOption())
    .addOption(new Option('--format <format>', 'rr: presentation format (TXT split into 255-byte strings, IHLE as RFC 3597 \\#); value: one unsplit TXT value or IHLE hex per line, for web forms').choices(['rr', 'value']).default('rr'))
    .option('--json', 'print the records as a JSON array of {name, ttl, type, rdata} (rdata in presentation form)')
    .addHelpText('after', '\nExample:\n  emblem dns records --name emblem.example.org ../shared/interop/dns/cyberstar.online.txt')
    .action(async (files: string[], opts: RecordsFlags) => (await import('./dns-actions.js')).dnsRecords(files, opts));

  dns
    .command('zone')
    .option('--json', 'print {origin, format, text}: the zone (or YAML) inside a JSON object')
    .description('print a complete zone (SOA, NS, emblem records) that NSD, Knot and BIND load, or octoDNS YAML')
    .requiredOption('--origin <zone>', 'the zone apex, e.g. example.org ("." for the root)')
    .option('--name <name>', 'owner name of the records from FILES (default: the origin)')
    .argument('[files...]', 'token/key files for --name (see `emblem dns records --help`)')
    .option('--add <name=file>', 'also publish FILE at NAME in the same zone; repeatable', collect)
    .option('--address <name=ip>', 'add an A or AAAA record (address assets are matched through them); repeatable', collect)
    .option('--ns <name>', 'name server for the apex NS RRset (default ns1.<origin>); repeatable', collect)
    .option('--ns-address <ip>', 'address of in-zone name servers (default 127.0.0.1: replace it for a real zone); repeatable', collect)
    .option('--id <identifier>', 'DNS-01 identifier for records that have none')
    .addOption(eraOption())
    .option('--ttl <seconds>', 'TTL of every record', '3600')
    .option('--serial <n>', 'SOA serial (default: current Unix time)')
    .addOption(ihleTypeOption())
    .addOption(new Option('--format <format>', 'zone: RFC 1035 master file; octodns: octoDNS YamlProvider YAML').choices(['zone', 'octodns']).default('zone'))
    .option('--out <file>', 'write to FILE instead of standard output')
    .addHelpText(
      'after',
      `
Example (the three live deployments in one root zone, as in the acceptance test):
  emblem dns zone --origin . \\
    --add cyberstar.online=../shared/interop/dns/cyberstar.online.txt \\
    --add emblem.felixlinker.de=../shared/interop/dns/emblem.felixlinker.de.txt \\
    --address emblem.felixlinker.de=2a01:4f9:c010:d8e4::1 > emblems.zone
  nsd-checkzone . emblems.zone`,
    )
    .action(async (files: string[], opts: ZoneFlags) => (await import('./dns-actions.js')).dnsZone(files, opts));

  dns
    .command('serve')
    .option('--json', 'event and error lines are JSON already; accepted on every command')
    .description('serve zone files as an authoritative DNS server (UDP and TCP, EDNS(0), DNS-02 IHLE additional section)')
    .requiredOption('--zone <file>', 'zone file (RFC 1035 master format); repeatable', collect)
    .option('--listen <host:port>', 'address to listen on, UDP and TCP: IP:PORT, [IPv6]:PORT or HOSTNAME:PORT (every address it resolves to); port 0 = a free port, printed on start; repeatable (default 127.0.0.1:53)', collect)
    .addOption(ihleTypeOption())
    .option('--edns-payload <bytes>', 'largest UDP answer, advertised in OPT (512..4096)', String(DnsLimits.defaultUdpPayload))
    .option('--stats-file <file>', 'write query counters as JSON here on SIGUSR1 and on exit (and once at start)')
    .addOption(new Option('--any <mode>', 'ANY queries: minimal = one RRset (RFC 8482: the IHLE RRset, else a synthesized HINFO), full = every RRset at the name').choices(['minimal', 'full']).default('minimal'))
    .option('--rrl-responses-per-second <n>', 'response rate limiting over UDP: identical answers per second to one client network (/24, /56) before they are dropped or slipped; 0 = off', String(DnsLimits.defaultRrlResponsesPerSecond))
    .option('--rrl-slip <n>', 'every Nth rate-limited answer is sent truncated (TC=1) so real clients retry over TCP; 0 = drop all', String(DnsLimits.defaultRrlSlip))
    .option('--tcp-max-connections <n>', 'concurrent TCP connections; at the cap the longest-idle one is evicted', String(DnsLimits.maxTcpConnections))
    .option('--tcp-max-per-address <n>', 'concurrent TCP connections from one client address; 0 = only the global cap', String(DnsLimits.maxTcpConnectionsPerAddress))
    .option('--tcp-idle-timeout <seconds>', 'close a TCP connection that completes no query for this long (whole messages count, not bytes)', String(DnsLimits.tcpIdleTimeoutMs / 1000))
    .option('--doh <host:port>', 'also serve DNS over HTTPS (RFC 8484, GET and POST at /dns-query) here; with --doh and no --listen, only DoH is served; repeatable', collect)
    .option('--doh-cert <file>', 'PEM certificate (chain) for DoH over TLS; without it DoH is plain HTTP (loopback tests, or behind a TLS proxy)')
    .option('--doh-key <file>', 'PEM private key for --doh-cert')
    .option('--doh-timeout <seconds>', 'close a DoH connection that is idle, or has not sent its request headers, for this long', '10')
    .addHelpText(
      'after',
      `
On start one JSON line goes to stdout: {"event":"listening","addresses":["127.0.0.1:5353"],"zones":["."],"udp":"native"}
(with --doh also "doh":["http://127.0.0.1:8053/dns-query"]).
"udp" is "native" when UDP is served in batches by the native module built at install (Linux, recvmmsg/sendmmsg)
and "dgram" otherwise (node:dgram, same answers, fewer queries/s; EMBLEM_NATIVE_UDP=0 forces it).
Errors (malformed queries...) are logged as JSON lines on stderr, rate-limited; answered queries are not logged.
SIGHUP reloads every zone file: all of them or none (a zone that fails to load keeps the old data served and
logs a "zones-reload-failed" line with the reason). SIGUSR1 writes the counters (stats file and stderr);
SIGTERM/SIGINT stop the server. Load tests from one address need --rrl-responses-per-second 0.

Example:
  emblem dns serve --zone emblems.zone --listen 127.0.0.1:5353 &
  dig @127.0.0.1 -p 5353 TXT cyberstar.online`,
    )
    .action(async (opts: ServeFlags) => (await import('./dns-actions.js')).dnsServe(opts));
}
