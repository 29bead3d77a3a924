// The actions of `emblem ct` (loaded only when one runs; see ct.ts).
import { access, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
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
import { type CommitmentFlags } from '../commitment-flags.js';
import { parseTime } from '../duration.js';
import { ExitCode, UsageError } from '../exit.js';
import { readPublicKeyFile, readTextFile } from '../inputs.js';
import { parseLogOption } from '../log-option.js';
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

async function keyAndHost(opts: { key: string; issuer: string; era: 'jws' | 'cwt' }): Promise<{ kid: string; host: string; publicKey: JsonWebKey }> {
  const key = await readPublicKeyFile(opts.key);
  return { kid: kidOf(key, opts.era), host: parseOrganizationIdentifier(opts.issuer).host, publicKey: key.jwk as JsonWebKey };
}

export async function ctLeafhash(path: string, opts: { logList?: string[]; details?: boolean; timestamp?: string; logId?: string; index?: string }): Promise<void> {
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
}

export async function ctBinding(path: string, opts: { key: string; issuer: string; era: 'jws' | 'cwt'; at?: string; failOnExpired?: boolean }): Promise<void> {
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
}

export async function ctCheck(opts: CommitmentFlags & { key: string; issuer: string; log: string; era: 'jws' | 'cwt'; at?: string }): Promise<void> {
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
}

export async function ctServe(opts: { listen: string; roots: string; state?: string; batchMs: string }): Promise<void> {
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
}

export async function ctSubmit(path: string, opts: { logUrl: string }): Promise<void> {
  const { leafHashOf, x509EntryFor } = await leafHashes();
  const chain = await readChain(path);
  const sct = await submitChain(opts.logUrl, chain);
  const id = toBase64(sct.logId);
  const index = leafIndexFromExtensions(sct.extensions);
  const entries: unknown[] = [{ ver: 'v1', id, hash: toBase64(leafHashOf(x509EntryFor(chain[0]!, sct.timestamp, sct.extensions))) }];
  if (index !== null) entries.push({ ver: 'static', id, index });
  print(entries);
}

export async function ctPrefetch(files: string[], opts: { out: string; logList?: string[]; commitmentPolicy: 'all' | 'any'; at?: string; force?: boolean }): Promise<void> {
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
}
