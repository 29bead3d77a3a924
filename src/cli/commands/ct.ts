import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_LOG_LIST_URLS } from '../../ct/log-list-urls.js';
import { addCommitmentOptions, type CommitmentFlags } from '../commitment-flags.js';
import { acceptJsonFlag } from '../json-option.js';

// Registration only: the actions live in ct-actions.ts, loaded when a subcommand runs (start-up of other commands).
const collect = (value: string, previous: string[] = []) => [...previous, value];

// The X.509/ASN.1 stack (pkijs) costs more to load than most commands take to run: each action loads what it uses.
function registerLeafhash(ct: Command): void {
  acceptJsonFlag(ct.command('leafhash'))
    .description('print the CT `log` entries of a certificate chain (leaf first): one per embedded SCT')
    .argument('<chain>', 'PEM file, leaf certificate first, then its issuer')
    .option('--log-list <file|url>', 'name the logs from this v3 list (repeatable); implies --details', collect)
    .option('--details', 'print objects with the SCT timestamp, the leaf hash and the log description')
    .option('--timestamp <ms>', 'for a certificate without SCTs: the timestamp a log returned for it (x509 entry)')
    .option('--log-id <base64>', 'with --timestamp: the log ID to put in the entry')
    .option('--index <n>', 'with --timestamp: a static-ct leaf index instead of the hash')
    .addHelpText('after', '\nExample:\n  emblem ct leafhash ../shared/interop/certs/auth.felixlinker.de.fullchain.pem > log.json')
    .action(async (path: string, opts: { logList?: string[]; details?: boolean; timestamp?: string; logId?: string; index?: string }) => (await import('./ct-actions.js')).ctLeafhash(path, opts));
}

function registerBinding(ct: Command): void {
  acceptJsonFlag(ct.command('binding'))
    .description('check that a certificate binds a root key to an organisation (SANs <kid>.adem-configuration.<host> and <host> or adem-configuration.<host>)')
    .argument('<chain>', 'PEM file, leaf first')
    .requiredOption('--key <file>', 'the root public key (PEM or JWK)')
    .requiredOption('--issuer <oi>', 'organisation identifier, e.g. https://example.org')
    .addOption(new Option('--era <era>', 'which kid form the certificate must name').choices(['jws', 'cwt']).default('jws'))
    .option('--at <time>', 'judge validity as of this ISO-8601 time')
    .option('--fail-on-expired', 'an expired certificate fails the check (default: reported only)')
    .addHelpText('after', '\nExample:\n  emblem ct binding ../shared/interop/certs/auth.felixlinker.de.fullchain.pem \\\n    --key ../shared/interop/certs/auth.felixlinker.de.pub.json --issuer https://auth.felixlinker.de')
    .action(async (path: string, opts: { key: string; issuer: string; era: 'jws' | 'cwt'; at?: string; failOnExpired?: boolean }) => (await import('./ct-actions.js')).ctBinding(path, opts));
}

function registerCheck(ct: Command): void {
  const cmd = ct
    .command('check')
    .option('--json', 'output is JSON already; accepted on every command')
    .description('check a root-key commitment against CT logs and print every step (what `emblem verify` does per log-bearing endorsement)')
    .requiredOption('--key <file>', 'the committed public key (PEM or JWK): the verification key of the log-bearing endorsement')
    .requiredOption('--issuer <oi>', 'organisation identifier of that endorsement, e.g. https://example.org')
    .requiredOption('--log <json|file>', 'the endorsement\'s `log` entries (as `emblem ct leafhash` prints them)')
    .addOption(new Option('--era <era>', 'kid form').choices(['jws', 'cwt']).default('jws'))
    .option('--at <time>', 'judge certificate validity as of this ISO-8601 time');
  addCommitmentOptions(cmd);
  cmd.addHelpText('after', '\nExample:\n  emblem ct check --key root.pub.json --issuer https://example.org --log log.json \\\n    --log-list http://127.0.0.1:8088/log_list.json');
  cmd.action(async (opts: CommitmentFlags & { key: string; issuer: string; log: string; era: 'jws' | 'cwt'; at?: string }) => (await import('./ct-actions.js')).ctCheck(opts));
}

function registerServe(ct: Command): void {
  acceptJsonFlag(ct.command('serve'))
    .description('run a local CT log: RFC 6962 write/read API, static-ct read API (checkpoint, tiles), and /log_list.json')
    .requiredOption('--listen <host:port>', 'address to listen on, e.g. 127.0.0.1:8088 (port 0 = any free port)')
    .requiredOption('--roots <file>', 'PEM file with the accepted root certificates')
    .option('--state <dir>', 'keep the log key and entries here (default: in memory, new key each start)')
    .option('--batch-ms <ms>', 'sequencing delay: submissions are in a signed tree head this long after arriving', '100')
    .addHelpText('after', '\nPrints one JSON line {"url","logListUrl","logId"} when ready; stops on SIGINT/SIGTERM.\n\nExample:\n  emblem ct serve --listen 127.0.0.1:8088 --roots ca.pem --state ./ct-state')
    .action(async (opts: { listen: string; roots: string; state?: string; batchMs: string }) => (await import('./ct-actions.js')).ctServe(opts));
}

function registerSubmit(ct: Command): void {
  acceptJsonFlag(ct.command('submit'))
    .description('submit a chain to an RFC 6962 log (add-chain) and print the `log` entries for the returned SCT')
    .argument('<chain>', 'PEM file, leaf first')
    .requiredOption('--log-url <url>', 'the log\'s base URL (ending in /)')
    .addHelpText('after', '\nExample:\n  emblem ct submit binding.pem --log-url http://127.0.0.1:8088/ > log.json')
    .action(async (path: string, opts: { logUrl: string }) => (await import('./ct-actions.js')).ctSubmit(path, opts));
}

function registerPrefetch(ct: Command): void {
  acceptJsonFlag(ct.command('prefetch'))
    .description('while online, collect the CT log lists, tree heads, proofs and entries the given token sets need, for offline verification with --ct-bundle')
    .argument('<sets...>', 'token set files, one set per file (as for emblem verify)')
    .requiredOption('--out <file>', 'where to write the bundle (JSON)')
    .option('--log-list <file|url>', `CT log list to trust; repeatable (default: ${DEFAULT_LOG_LIST_URLS.join(' and ')})`, collect)
    .addOption(new Option('--commitment-policy <policy>', 'as for emblem verify').choices(['all', 'any']).default('all'))
    .option('--at <time>', 'verify as of this ISO-8601 time (certificate validity)')
    .option('--force', 'replace an existing --out file (the old one is kept as FILE.bak)')
    .addHelpText(
      'after',
      `
Prints a JSON summary: the bundle, and each set's result and commitment status as checked while collecting.
Exit codes: 0 bundle written, every commitment checked; 3 bundle written, but some commitment could not be
checked (that part is missing from the bundle); 2 usage error or the log list could not be fetched.

Example:
  emblem ct prefetch set.txt --out bundle.json
  emblem verify --ct-bundle bundle.json set.txt          # later, with no network`,
    )
    .action(async (files: string[], opts: { out: string; logList?: string[]; commitmentPolicy: 'all' | 'any'; at?: string; force?: boolean }) => (await import('./ct-actions.js')).ctPrefetch(files, opts));
}

export function registerCt(program: Command): void {
  const ct = program.command('ct').description('Certificate Transparency: leaf hashes, binding checks, commitment checks, a local CT log');
  registerLeafhash(ct);
  registerBinding(ct);
  registerCheck(ct);
  registerSubmit(ct);
  registerServe(ct);
  registerPrefetch(ct);
}

