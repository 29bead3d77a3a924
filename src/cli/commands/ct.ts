import { access, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { verifyMaterial } from '../../core/verify/index.js';
import { fetchHttp } from '../../ct/http.js';
import { BUNDLE_FORMAT, bundleDirectory, fetchLogListsForBundle, recordingHttp, type CtBundle, type RecordedResponse } from '../../ct/offline-bundle.js';
import { TreeHeadStore } from '../../ct/tree-head-store.js';
import { writeFileAtomic } from '../../store/atomic-write.js';
import { materialFromText } from './verify.js';
import { fromBase64, toBase64 } from '../../ct/bytes.js';
import { checkBinding } from '../../ct/binding.js';
import { DEFAULT_LOG_LIST_URLS, defaultCacheDir, loadLogLists } from '../../ct/log-list-source.js';
import type { LogDirectory } from '../../ct/log-list.js';
import { submitChain } from '../../ct/submission.js';
import { leafIndexFromExtensions } from '../../ct/sct.js';
import { kidOf } from '../../core/tokens/keys.js';
import { parseOrganizationIdentifier } from '../../core/identifiers/organization.js';
import { addCommitmentOptions, type CommitmentFlags } from '../commitment-flags.js';
import { parseTime } from '../duration.js';
import { ExitCode, UsageError } from '../exit.js';
import { readPublicKeyFile, readTextFile } from '../inputs.js';
import { parseLogOption } from '../log-option.js';
import { acceptJsonFlag } from '../json-option.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

// The X.509/ASN.1 stack (pkijs) costs more to load than most commands take to run: each action loads what it uses.
const certificates = () => import('../../ct/certificate.js');
const leafHashes = () => import('../../ct/leaf-hash.js');

async function readChain(path: string): Promise<Uint8Array[]> {
  const { parsePemCertificates } = await certificates();
  const chain = parsePemCertificates(await readTextFile(path));
  if (chain.length === 0) throw new UsageError(`${path} holds no PEM certificate`);
  return chain;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`--listen must be HOST:PORT (e.g. 127.0.0.1:8088), got ${value}`);
  return { host: (m[1] ?? m[2])!, port };
}

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
    .action(async (path: string, opts: { logList?: string[]; details?: boolean; timestamp?: string; logId?: string; index?: string }) => {
      const { isSignedBy } = await certificates();
      const { leafHashOf, logEntriesFromChain, x509EntryFor } = await leafHashes();
      const chain = await readChain(path);
      if (opts.timestamp !== undefined) {
        const ts = Number(opts.timestamp);
        const id = fromBase64(opts.logId ?? '');
        if (!Number.isSafeInteger(ts) || ts < 0) throw new UsageError('--timestamp must be milliseconds since the epoch');
        if (!id || id.length !== 32) throw new UsageError('--timestamp needs --log-id (standard base64 of 32 bytes)');
        if (opts.index !== undefined) {
          const index = Number(opts.index);
          if (!Number.isSafeInteger(index) || index < 0) throw new UsageError('--index must be a non-negative integer');
          print([{ ver: 'static', id: toBase64(id), index }]);
        } else {
          print([{ ver: 'v1', id: toBase64(id), hash: toBase64(leafHashOf(x509EntryFor(chain[0]!, ts))) }]);
        }
        return;
      }
      // The issuer's key hash is part of every precert leaf: with the wrong second certificate no hash would match.
      if (chain.length >= 2 && !(await isSignedBy(chain[0]!, chain[1]!))) {
        process.stderr.write(`emblem: warning: the second certificate in ${path} did not sign the first; the leaf hashes will not match any log\n`);
      }
      const entries = logEntriesFromChain(chain);
      if (entries.length === 0) throw new UsageError(`${path}: the leaf certificate has no embedded SCTs (use --timestamp and --log-id for an add-chain entry)`);
      if (!opts.details && !opts.logList?.length) return print(entries.map((e) => e.log));
      const dir: LogDirectory | null = opts.logList?.length ? await loadLogLists(opts.logList, { cacheDir: defaultCacheDir() }) : null;
      print(
        entries.map((e) => {
          const id = fromBase64(e.log.id)!;
          const listed = dir?.find(e.log.ver === 'static' ? 'tiled' : 'rfc6962', id) ?? dir?.findAny(id);
          return {
            log: e.log,
            sctTimestamp: new Date(e.timestamp).toISOString(),
            leafHash: e.leafHash,
            ...(dir ? { logDescription: listed?.description ?? null, logState: listed?.state ?? null, listed: !!listed } : {}),
          };
        }),
      );
    });
}

async function keyAndHost(opts: { key: string; issuer: string; era: 'jws' | 'cwt' }): Promise<{ kid: string; host: string; publicKey: JsonWebKey }> {
  const key = await readPublicKeyFile(opts.key);
  return { kid: kidOf(key, opts.era), host: parseOrganizationIdentifier(opts.issuer).host, publicKey: key.jwk as JsonWebKey };
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
    .action(async (path: string, opts: { key: string; issuer: string; era: 'jws' | 'cwt'; at?: string; failOnExpired?: boolean }) => {
      const { isSignedBy, summarizeCertificate } = await certificates();
      const chain = await readChain(path);
      const { kid, host } = await keyAndHost(opts);
      const now = opts.at ? parseTime(opts.at, '--at') : new Date();
      const cert = summarizeCertificate(chain[0]!);
      const result = checkBinding(cert, { host, kid, now }, { failOnExpired: opts.failOnExpired === true });
      print({
        status: result.ok ? 'verified' : 'failed',
        kid,
        host,
        certificate: { subject: cert.subject, issuer: cert.issuer, dnsNames: cert.dnsNames },
        ...result,
        chain: await Promise.all(
          chain.map(async (c, i) => ({
            subject: summarizeCertificate(c).subject,
            ...(chain[i + 1] ? { signedByNext: await isSignedBy(c, chain[i + 1]!) } : {}),
          })),
        ),
      });
      process.exitCode = result.ok ? ExitCode.OK : ExitCode.NOT_VALID;
    });
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
  cmd.action(async (opts: CommitmentFlags & { key: string; issuer: string; log: string; era: 'jws' | 'cwt'; at?: string }) => {
    const { ctBundleFromOptions, ctCheckerFromOptions } = await import('../commitment-options.js');
    if (opts.skipCommitmentCheck) throw new UsageError('ct check with --skip-commitment-check would check nothing');
    const { kid, host, publicKey } = await keyAndHost(opts);
    const checker = ctCheckerFromOptions(opts, await ctBundleFromOptions(opts));
    const outcome = await checker.check({
      era: opts.era,
      issuer: opts.issuer,
      host,
      kid,
      publicKey,
      logs: parseLogOption(opts.log),
      now: opts.at ? parseTime(opts.at, '--at') : new Date(),
    });
    print({ kid, host, ...outcome });
    process.exitCode = outcome.status === 'verified' ? ExitCode.OK : outcome.status === 'unavailable' ? ExitCode.INDETERMINATE : ExitCode.NOT_VALID;
  });
}

function registerServe(ct: Command): void {
  acceptJsonFlag(ct.command('serve'))
    .description('run a local CT log: RFC 6962 write/read API, static-ct read API (checkpoint, tiles), and /log_list.json')
    .requiredOption('--listen <host:port>', 'address to listen on, e.g. 127.0.0.1:8088 (port 0 = any free port)')
    .requiredOption('--roots <file>', 'PEM file with the accepted root certificates')
    .option('--state <dir>', 'keep the log key and entries here (default: in memory, new key each start)')
    .option('--batch-ms <ms>', 'sequencing delay: submissions are in a signed tree head this long after arriving', '100')
    .addHelpText('after', '\nPrints one JSON line {"url","logListUrl","logId"} when ready; stops on SIGINT/SIGTERM.\n\nExample:\n  emblem ct serve --listen 127.0.0.1:8088 --roots ca.pem --state ./ct-state')
    .action(async (opts: { listen: string; roots: string; state?: string; batchMs: string }) => {
      const { startLocalCtLog } = await import('../../ct/local-log/start-local-ct-log.js');
      const { host, port } = parseListen(opts.listen);
      const roots = await readChain(opts.roots);
      const batchMs = Number(opts.batchMs);
      if (!Number.isSafeInteger(batchMs) || batchMs < 0 || batchMs > 1000) throw new UsageError('--batch-ms must be 0..1000');
      const running = await startLocalCtLog({ roots, host, port, batchMs, ...(opts.state ? { dir: opts.state } : {}) });
      process.stdout.write(`${JSON.stringify({ url: running.url, logListUrl: running.logListUrl, logId: running.logId })}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await running.close();
    });
}

function registerSubmit(ct: Command): void {
  acceptJsonFlag(ct.command('submit'))
    .description('submit a chain to an RFC 6962 log (add-chain) and print the `log` entries for the returned SCT')
    .argument('<chain>', 'PEM file, leaf first')
    .requiredOption('--log-url <url>', 'the log\'s base URL (ending in /)')
    .addHelpText('after', '\nExample:\n  emblem ct submit binding.pem --log-url http://127.0.0.1:8088/ > log.json')
    .action(async (path: string, opts: { logUrl: string }) => {
      const { leafHashOf, x509EntryFor } = await leafHashes();
      const chain = await readChain(path);
      const sct = await submitChain(opts.logUrl, chain);
      const id = toBase64(sct.logId);
      const index = leafIndexFromExtensions(sct.extensions);
      const entries: unknown[] = [{ ver: 'v1', id, hash: toBase64(leafHashOf(x509EntryFor(chain[0]!, sct.timestamp, sct.extensions))) }];
      if (index !== null) entries.push({ ver: 'static', id, index });
      print(entries);
    });
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
    .action(async (files: string[], opts: { out: string; logList?: string[]; commitmentPolicy: 'all' | 'any'; at?: string; force?: boolean }) => {
      const { CtCommitmentChecker } = await import('../../ct/commitment-checker.js');
      const now = opts.at ? parseTime(opts.at, '--at') : new Date();
      const exists = await access(opts.out).then(() => true, () => false);
      if (exists && !opts.force) throw new UsageError(`${opts.out} exists: pass --force to replace it (the old file is kept as ${opts.out}.bak)`);
      const sets = await Promise.all(files.map(async (f) => ({ file: f, text: await readTextFile(f) })));
      const createdAt = new Date().toISOString();
      const logLists = await fetchLogListsForBundle(opts.logList?.length ? opts.logList : DEFAULT_LOG_LIST_URLS);
      const recorded = new Map<string, RecordedResponse>();
      const checker = new CtCommitmentChecker({
        logDirectory: async () => bundleDirectory({ logLists }),
        policy: opts.commitmentPolicy,
        http: recordingHttp(fetchHttp, recorded),
        treeHeads: new TreeHeadStore(join(defaultCacheDir(), 'tree-heads.json')),
      });
      const results = [];
      for (const set of sets) {
        const parsed = materialFromText(set.text, set.file);
        const report = await verifyMaterial(parsed.material, { now, commitments: checker, inputErrors: parsed.errors });
        results.push({ file: set.file, result: report.result, commitment: report.commitment, ...(report.notEstablished ? { notEstablished: report.notEstablished } : {}) });
      }
      const bundle: CtBundle = { format: BUNDLE_FORMAT, createdAt, logLists, responses: [...recorded.values()] };
      if (exists) await copyFile(opts.out, `${opts.out}.bak`);
      await writeFileAtomic(opts.out, `${JSON.stringify(bundle)}\n`);
      print({ out: opts.out, createdAt, logLists: logLists.map((l) => l.source), responses: bundle.responses.length, sets: results });
      process.exitCode = results.some((r) => r.commitment === 'unavailable') ? ExitCode.INDETERMINATE : ExitCode.OK;
    });
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
