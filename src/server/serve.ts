import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { EmblemError } from '../core/errors.js';
import { skipCommitmentCheck, type CommitmentChecker } from '../core/verify/commitment.js';
import { parseListenAddress } from '../dns/authoritative-server.js';
import { DEFAULT_IHLE_TYPE } from '../dns/rr-type.js';
import { readPublicKeyFile } from '../cli/inputs.js';
import { commitmentCheckerFromOptions, ctBundleInfo } from '../cli/commitment-options.js';
import type { ServeFlags } from '../cli/commands/serve.js';
import { CtCommitmentChecker } from '../ct/commitment-checker.js';
import { trustStoreKeys } from '../trust/store.js';
import { buildApp, type AppOptions } from './app.js';
import type { AuditEvent, CheckSettings, VerifySettings } from './context.js';
import { ServerLimits } from './limits.js';
import { ApiTokenVerifier } from './tokens.js';

export function defaultTokensFile(): string {
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'emblem', 'api-tokens.json');
}

/** The dashboard's build output, next to this module's package folder (dist/server -> dist/web). */
export function defaultWebRoot(): string {
  return fileURLToPath(new URL('../web/', import.meta.url));
}

const CONFIG_KEYS = ['listen', 'org', 'authority', 'observeConfig', 'tokens', 'auditLog', 'web', 'rateLimit', 'resolver', 'doh', 'trustStore', 'policy'] as const;

/** `--config` YAML: the same settings as the flags; relative paths are relative to the YAML file. Flags win. */
export async function readServeConfig(path: string): Promise<Partial<ServeFlags>> {
  let doc: unknown;
  try {
    const text = await readFile(path, 'utf8');
    if (text.length > 64 * 1024) throw new EmblemError('LIMIT_EXCEEDED', `${path} is larger than 64 KiB`);
    doc = parseYaml(text);
  } catch (err) {
    if (err instanceof EmblemError) throw err;
    throw new EmblemError('USAGE', `--config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new EmblemError('USAGE', `--config ${path}: expected a mapping`);
  const base = dirname(resolve(path));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) throw new EmblemError('USAGE', `--config ${path}: unknown key ${JSON.stringify(key)} (known: ${CONFIG_KEYS.join(', ')})`);
    const isPath = ['org', 'authority', 'observeConfig', 'tokens', 'auditLog', 'web'].includes(key);
    if (key === 'trustStore') {
      const list = Array.isArray(value) ? value : [value];
      out[key] = list.map((v) => resolve(base, String(v)));
    } else out[key] = isPath ? resolve(base, String(value)) : String(value);
  }
  return out as Partial<ServeFlags>;
}

async function verifySettings(opts: ServeFlags): Promise<VerifySettings> {
  const trustedKeys = await Promise.all((opts.trustedKey ?? []).map((f) => readPublicKeyFile(f)));
  trustedKeys.push(...(await trustStoreKeys(opts.trustStore ?? [])));
  // One real checker for the server's lifetime (its log lists and tree heads are cached between requests).
  let real: Promise<CommitmentChecker> | null = null;
  const commitments = (skip: boolean): Promise<CommitmentChecker> => {
    if (skip || opts.skipCommitmentCheck) return Promise.resolve(skipCommitmentCheck);
    real ??= commitmentCheckerFromOptions(opts);
    return real;
  };
  return {
    trustedKeys,
    policy: opts.policy,
    commitments,
    ctBundle: (now, skip) => (skip ? Promise.resolve(null) : ctBundleInfo(opts, now)),
    ctLogs: async () => {
      // The log list of the same checker that verifies; none when commitments are not checked.
      const checker = await commitments(false);
      if (!(checker instanceof CtCommitmentChecker)) return [];
      return (await checker.listedLogs()).map((l) => ({
        id: l.logIdBase64, kind: l.kind, description: l.description, operator: l.operator, url: l.url ?? l.monitoringUrl ?? null,
      }));
    },
  };
}

/** `emblem serve`: reads the settings, builds the app, listens, prints one "listening" line, stops on signals. */
export async function startServe(flags: ServeFlags): Promise<void> {
  const fromConfig = flags.config ? await readServeConfig(flags.config) : {};
  const opts: ServeFlags = { ...fromConfig, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) } as ServeFlags;
  if (flags.listen === '127.0.0.1:8080' && fromConfig.listen) opts.listen = fromConfig.listen; // the flag's default loses to the file
  if (flags.rateLimit === '20' && fromConfig.rateLimit !== undefined) opts.rateLimit = fromConfig.rateLimit;
  if (opts.resolver !== undefined && opts.doh !== undefined) throw new EmblemError('USAGE', 'give either --resolver or --doh, not both');
  const listen = parseListenAddress(opts.listen ?? '127.0.0.1:8080');
  const rate = Number(opts.rateLimit ?? ServerLimits.defaultRatePerSecond);
  if (!Number.isInteger(rate) || rate < 0 || rate > 1_000_000) throw new EmblemError('USAGE', '--rate-limit must be an integer 0..1000000');

  const auditStream = opts.auditLog ? createWriteStream(opts.auditLog, { flags: 'a', mode: 0o600 }) : null;
  const audit = (event: AuditEvent) => {
    const line = `${JSON.stringify({ event: 'write', ...event })}\n`;
    if (auditStream) auditStream.write(line);
    else process.stderr.write(line);
  };
  const check: CheckSettings = {
    resolver: opts.resolver,
    doh: opts.doh,
    requestResolver: opts.requestResolver !== false,
    era: 'any',
    ihleType: DEFAULT_IHLE_TYPE,
    timeoutMs: 3000,
    attempts: 2,
  };
  const tokens = new ApiTokenVerifier(opts.tokens ?? defaultTokensFile());
  await tokens.load();
  const { openAreas } = await import('./areas.js');
  const areas = await openAreas(opts);
  const options: AppOptions = {
    verify: await verifySettings(opts),
    check,
    tokens,
    webRoot: opts.web ?? defaultWebRoot(),
    audit,
    ratePerSecond: rate,
    ...areas,
  };
  const app = await buildApp(options);
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new EmblemError('SERVE_LISTEN_FAILED', `cannot listen on ${opts.listen}: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.message}`);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: `http://${host}:${port}`, features: { org: Boolean(areas.org), authority: Boolean(areas.authority), observatory: Boolean(areas.observatory) } })}\n`);
  const stop = () => {
    void app.close().then(async () => {
      await areas.close?.();
      auditStream?.end();
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await new Promise<never>(() => undefined);
}
