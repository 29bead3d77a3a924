import { Command, Option } from 'commander';
import type { Material } from '../../core/material/material.js';
import { isFailure } from '../../core/verify/report.js';
import { normalizeUserName } from '../../dns/domain-name.js';
import type { CheckedTokenSet, CheckReport } from '../../dns/name-check.js';
import { DEFAULT_IHLE_TYPE, parseIhleTypeCode, parseTypeName } from '../../dns/rr-type.js';
import { addCommitmentOptions, commitmentCheckerFor, ctBundleInfoFor, ctBundleLine, type CommitmentFlags } from '../commitment-flags.js';
import { parseTime } from '../duration.js';
import { ExitCode, UsageError } from '../exit.js';
import { publicKeyMaterial, readPublicKeyFile } from '../inputs.js';
import { formatReport } from '../report-text.js';
import { trustStoreKeys } from '../../trust/store.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface CheckFlags extends CommitmentFlags {
  resolver?: string;
  doh?: string;
  era: 'jws' | 'cwt' | 'any';
  trustedKey?: string[];
  trustStore?: string[];
  at?: string;
  json?: boolean;
  withTokens?: boolean;
  policy: 'spec' | 'prototype';
  ihleType: string;
  queryType?: string;
  timeout: string;
  attempts: string;
}

const STATUS_TEXT: Record<CheckReport['status'], string> = {
  protected: 'PROTECTED',
  indeterminate: 'INDETERMINATE: a valid emblem names this asset, but a root-key commitment could not be checked',
  contested: 'CONTESTED: a valid chain names this asset, but the set also holds a conflicting emblem (ADEM result INVALID, MULTIPLE_EMBLEMS)',
  'not-covered': 'NOT COVERED: a valid emblem is published here, but it does not name this asset',
  expired: 'EXPIRED: the emblem records here are outside their validity window',
  invalid: 'INVALID: the emblem records here do not verify',
  'no-emblem': 'NO EMBLEM: the name exists but publishes no emblem records',
  nxdomain: 'NXDOMAIN: the name does not exist',
  error: 'ERROR: the lookup failed',
};

/**
 * How one token set relates to the name. Only a set that verified can "not name" the asset; a set that failed is
 * labelled by what happened to it (its assets were never trusted, so whether it names the name is moot).
 */
function coverLabel(set: CheckedTokenSet): string {
  if (set.coveredBy) return `covers this name through asset ${set.coveredBy.asset}${set.coveredBy.address ? ` (address ${set.coveredBy.address})` : ''}`;
  if (!isFailure(set)) return 'does not name this asset';
  const codes = new Set(set.errors.map((e) => String(e.code)));
  if (codes.has('TOKEN_EXPIRED')) return 'expired';
  if (codes.has('TOKEN_NOT_YET_VALID')) return 'not yet valid';
  if (set.result.includes('UNSIGNED')) return 'unsigned';
  return 'does not verify';
}

function formatCheck(report: CheckReport): string {
  const lines: string[] = [];
  const head =
    report.status === 'protected'
      ? `PROTECTED at level ${report.level}`
      : report.status === 'indeterminate' || report.status === 'contested'
        ? `${STATUS_TEXT[report.status]}; proven level ${report.level}`
        : STATUS_TEXT[report.status];
  lines.push(`${report.target}: ${head}`);
  const d = report.discovery;
  if (d) {
    const how = d.truncated ? `${d.transport} (the UDP answer was truncated)` : d.transport;
    lines.push(
      `Discovery: via ${d.resolver} over ${how}; ${d.records.txt} TXT (${d.records.ademTxt} ADEM), ${d.records.ihle} IHLE` +
        `${d.records.ihleFromAdditional ? ` (${d.records.ihleFromAdditional} from the Additional section)` : ''}; DNSSEC AD=${d.ad ? 1 : 0}`,
    );
  }
  for (const e of report.errors) lines.push(`  ${e.code}: ${e.message}`);
  report.sets.forEach((set, i) => {
    const cover = coverLabel(set);
    const c = set.contestedCoveredBy;
    const contestedCover = c ? `INVALID, but its contested emblem ${set.contested?.[c.candidate]?.emblem.kid} covers this name through asset ${c.asset}${c.address ? ` (address ${c.address})` : ''}` : null;
    lines.push('', `Token set ${i + 1}${set.identifier ? ` (identifier ${set.identifier})` : ''}, ${set.era ?? 'unknown'} era, ${contestedCover ?? cover}:`);
    lines.push(formatReport(set).trimEnd());
  });
  return `${lines.join('\n')}\n`;
}

export function registerCheck(program: Command): void {
  const cmd = program
    .command('check')
    .description('look up the emblem of a name in the DNS (through a resolver, never the asset) and verify it')
    .argument('<name>', 'the asset\'s domain name')
    .option('--resolver <ip[:port]|system>', 'recursive resolver or authoritative server to ask (default: system, from /etc/resolv.conf)')
    .option('--doh <url>', 'ask a DNS-over-HTTPS server (RFC 8484 wire format) instead, so the local resolver sees nothing')
    .addOption(new Option('--era <era>', 'jws: TXT (DNS-01); cwt: IHLE (DNS-02); any: both').choices(['jws', 'cwt', 'any']).default('any'))
    .option('--trusted-key <file>', 'a key you trust out of band (PEM or JWK); repeatable', collect)
    .option('--trust-store <file|folder>', 'pinned authority keys (emblem trust add); each acts like --trusted-key; repeatable', collect)
    .option('--at <time>', 'verify as of this ISO-8601 time instead of now')
    .addOption(new Option('--policy <policy>', 'as for emblem verify').choices(['spec', 'prototype']).default('spec'))
    .option('--ihle-type <code>', 'RR type code of IHLE', String(DEFAULT_IHLE_TYPE))
    .option('--query-type <type>', 'QTYPE asked to find IHLE records with --era cwt (e.g. A: DNS-02 servers add IHLE to the Additional section); default IHLE')
    .option('--timeout <ms>', 'timeout per query attempt', '3000')
    .option('--attempts <n>', 'attempts per query (UDP/DoH timeouts are retried)', '2')
    .option('--json', 'print the JSON report')
    .option('--with-tokens', 'with --json: add each set\'s token texts (sets[].tokens), e.g. to re-verify them with emblem verify')
    .addHelpText(
      'after',
      `
Status: protected | indeterminate | contested | not-covered | expired | invalid | no-emblem | nxdomain | error.
  indeterminate: a valid emblem names the name, but a root-key commitment could not be checked (network, log
  list, log); "level" is what was proven without it. contested: the set is INVALID (MULTIPLE_EMBLEMS), but one of
  its emblems alone verifies at ORGANIZATIONAL or above and names the name (its chain is in the report).
Exit codes: 0 protected; 1 any other result (contested included); 2 usage error or the lookup itself failed
(status "error"); 3 indeterminate.
Who sees the lookup: the resolver you choose (or your system's), the name servers of the zone, or the DoH server.
The asset itself is never contacted. See docs/dns.md.

Examples:
  emblem check --resolver 127.0.0.1:5353 --skip-commitment-check --json emblem.felixlinker.de
  emblem check --doh https://dns.example/dns-query --era cwt example.org`,
    );
  addCommitmentOptions(cmd);
  cmd.action(async (nameText: string, opts: CheckFlags) => {
    const { parseResolverSpec } = await import('../../dns/resolver.js');
    const { runCheck } = await import('../../validator/check-workflow.js');
    if (opts.resolver !== undefined && opts.doh !== undefined) throw new UsageError('give either --resolver or --doh, not both');
    try {
      normalizeUserName(nameText);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const ihleType = parseIhleTypeCode(opts.ihleType);
    let ihleQueryType: number | undefined;
    if (opts.queryType !== undefined) {
      const t = parseTypeName(opts.queryType, ihleType);
      if (t === null) throw new UsageError(`--query-type: unknown type ${JSON.stringify(opts.queryType)}`);
      ihleQueryType = t;
    }
    const timeoutMs = Number(opts.timeout);
    const attempts = Number(opts.attempts);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) throw new UsageError('--timeout must be 1..60000 ms');
    if (!Number.isInteger(attempts) || attempts < 1 || attempts > 5) throw new UsageError('--attempts must be 1..5');
    parseResolverSpec(opts.resolver, opts.doh);
    const now = opts.at ? parseTime(opts.at, '--at') : new Date();
    const trusted: Material[] = [];
    for (const f of opts.trustedKey ?? []) trusted.push(publicKeyMaterial(await readPublicKeyFile(f), f));
    for (const k of await trustStoreKeys(opts.trustStore ?? [])) trusted.push(publicKeyMaterial(k, 'trust store'));
    const commitments = await commitmentCheckerFor(opts);
    const report = await runCheck({
      name: nameText, resolver: opts.resolver, doh: opts.doh, era: opts.era, ihleType, ihleQueryType, timeoutMs, attempts,
      now, trustedKeys: trusted, commitments, policy: opts.policy, withTokens: opts.withTokens === true,
    });
    const bundle = await ctBundleInfoFor(opts, now);
    const json = bundle ? { ...report, ctBundle: bundle } : report;
    process.stdout.write(opts.json ? `${JSON.stringify(json, null, 2)}\n` : `${formatCheck(report)}${bundle ? `${ctBundleLine(bundle)}\n` : ''}`);
    process.exitCode =
      report.status === 'protected' ? ExitCode.OK
      : report.status === 'error' ? ExitCode.USAGE
      : report.status === 'indeterminate' ? ExitCode.INDETERMINATE
      : ExitCode.NOT_VALID;
  });
}
