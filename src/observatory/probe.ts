import { connect } from 'node:net';
import { lookupAddresses, type DiscoveryReport } from '../dns/discovery.js';
import { normalizeUserName } from '../dns/domain-name.js';
import type { ResolverSpec } from '../dns/resolver.js';
import { DEFAULT_IHLE_TYPE } from '../dns/rr-type.js';
import type { ProbeSummary } from './incidents.js';

/**
 * Owner mode only: is the asset reachable? Its addresses come from the DNS (through the first vantage point), then
 * one TCP connect per address and port. This DOES touch the asset, which is why validator mode refuses probes in the
 * config (covert validation: a validator's observations go to resolvers only).
 */
export async function probeTarget(target: string, ports: readonly number[], resolver: ResolverSpec, timeoutMs: number): Promise<ProbeSummary> {
  const report: DiscoveryReport = {
    resolver: '', transport: 'udp', truncated: false, ad: false, rcode: 'NOERROR', records: { txt: 0, ademTxt: 0, ihle: 0, ihleFromAdditional: 0 }, queries: [],
  };
  let addresses: string[];
  try {
    addresses = await lookupAddresses(normalizeUserName(target), { resolver, era: 'any', ihleType: DEFAULT_IHLE_TYPE, timeoutMs, attempts: 1 }, report);
  } catch (err) {
    return { reachable: false, detail: `address lookup failed: ${(err as Error).message}` };
  }
  if (addresses.length === 0) return { reachable: false, detail: 'no A/AAAA records' };
  const failed: string[] = [];
  for (const port of ports) {
    const results = await Promise.all(addresses.map((a) => tcpConnect(a, port, timeoutMs)));
    if (!results.some(Boolean)) failed.push(`${port}`);
  }
  return failed.length === 0
    ? { reachable: true, detail: `${addresses.join(',')} ports ${ports.join(',')} open` }
    : { reachable: false, detail: `no connection to port ${failed.join(',')} on ${addresses.join(',')}` };
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
