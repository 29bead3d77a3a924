import type { CommitmentChecker } from '../core/verify/commitment.js';
import { verifyMaterial } from '../core/verify/index.js';
import { isFailure, RESULT_ORDER, type ResultLevel } from '../core/verify/report.js';
import { checkName } from '../dns/name-check.js';
import { queryRecords } from '../dns/update/query.js';
import type { DnsRecord } from './channels/channel.js';
import { OrgLimits } from './limits.js';
import type { SetState } from './state.js';

export interface AssetVerification {
  ok: boolean;
  level: ResultLevel | null;
  /** Per server "host:port": what it showed. */
  servers: Array<{ server: string; ok: boolean; level: ResultLevel | null; detail: string }>;
}

function strongest(levels: ResultLevel[]): ResultLevel | null {
  let best: ResultLevel | null = null;
  for (const r of levels) if (best === null || RESULT_ORDER.indexOf(r) > RESULT_ORDER.indexOf(best)) best = r;
  return best;
}

/**
 * Verifies what the world sees: asks each authoritative server directly for the asset's records, runs the full
 * verification (core engine, CT commitments) and requires the set `want` (by its identifier for JWS; the IHLE set
 * for CWT) to be valid and to cover the asset, at `expectLevel` when one is configured.
 */
export async function verifyAsset(options: {
  probe: string;
  want: SetState;
  eras: Array<'jws' | 'cwt'>;
  servers: Array<{ host: string; port: number }>;
  now: Date;
  commitments: CommitmentChecker;
  ihleType: number;
  expectLevel?: string;
}): Promise<AssetVerification> {
  const out: AssetVerification = { ok: options.servers.length > 0, level: null, servers: [] };
  const levels: ResultLevel[] = [];
  for (const { host, port } of options.servers) {
    const server = `${host}:${port}`;
    const report = await checkName(options.probe, { resolver: { kind: 'udp', host, port }, era: 'any', ihleType: options.ihleType, timeoutMs: OrgLimits.queryTimeoutMs, attempts: 2 }, (material) =>
      verifyMaterial(material, { now: options.now, commitments: options.commitments }),
    );
    let ok = true;
    const details: string[] = [];
    const serverLevels: ResultLevel[] = [];
    for (const era of options.eras) {
      const set = report.sets.find((s) => s.era === era && (era === 'cwt' || s.identifier === options.want.identifier));
      if (!set) {
        ok = false;
        details.push(`${era}: set ${options.want.identifier} not found (status ${report.status}${report.errors.length ? `: ${report.errors.map((e) => e.code).join(', ')}` : ''})`);
        continue;
      }
      const level = strongest(set.result);
      if (isFailure(set) || !set.covered) {
        ok = false;
        details.push(`${era}: ${set.result.join('+')}${set.errors.length ? ` (${set.errors.map((e) => `${e.code}: ${e.message}`).join('; ')})` : ''}${set.covered ? '' : ' (does not cover the asset)'}`);
        continue;
      }
      if (options.expectLevel && !set.result.includes(options.expectLevel as ResultLevel)) {
        ok = false;
        details.push(`${era}: level ${set.result.join('+')}, expected ${options.expectLevel}`);
      }
      if (level) serverLevels.push(level);
    }
    const level = strongest(serverLevels);
    if (level) levels.push(level);
    out.servers.push({ server, ok, level, detail: details.join('; ') || 'verified' });
    if (!ok) out.ok = false;
  }
  // The level reported is the weakest seen across servers (what the worst-placed validator sees).
  out.level = levels.length === options.servers.length && levels.length ? levels.reduce((a, b) => (RESULT_ORDER.indexOf(a) < RESULT_ORDER.indexOf(b) ? a : b)) : null;
  return out;
}

/** Emblem records still answered by each server at these names (withdrawal check). */
export async function remainingOnServers(servers: Array<{ host: string; port: number }>, names: string[], types: number[]): Promise<Array<{ server: string; records: DnsRecord[] }>> {
  const out: Array<{ server: string; records: DnsRecord[] }> = [];
  for (const { host, port } of servers) {
    const records: DnsRecord[] = [];
    const queue = names.flatMap((n) => types.map((t) => [n, t] as const));
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(OrgLimits.readConcurrency, queue.length) }, async () => {
        while (next < queue.length) {
          const [n, t] = queue[next++]!;
          records.push(...(await queryRecords(host, port, n, t, OrgLimits.queryTimeoutMs)));
        }
      }),
    );
    out.push({ server: `${host}:${port}`, records });
  }
  return out;
}
