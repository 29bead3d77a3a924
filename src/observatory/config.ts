import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { normalizeUserName } from '../dns/domain-name.js';
import { parseResolverSpec, type ResolverSpec } from '../dns/resolver.js';
import { ObserveLimits } from './limits.js';

/**
 * observe.yaml: what to watch, through which vantage points, how often, and where state, evidence and alerts go.
 * Validation is strict: an unknown key or a wrong type is an error with code OBSERVE_CONFIG_INVALID naming the field
 * (a typo in a monitoring config would otherwise silently watch nothing).
 */
export interface VantagePointConfig {
  name: string;
  /** As written: IP:PORT or a DoH URL. */
  resolver: string;
  spec: ResolverSpec;
}

export interface WebhookConfig {
  url: string;
  secret: string;
}

export interface ProbeConfig {
  target: string;
  ports: number[];
}

export interface CtWatchConfig {
  /** Organisations whose adem-configuration names are watched, each with its known certificates (SHA-256 hex of the DER). */
  organizations: Array<{ name: string; known: string[] }>;
  /** Static-ct or RFC 6962 log URLs to follow (in addition to, or instead of, those of `logList`). */
  logs: Array<{ url: string; kind: 'rfc6962' | 'static'; publicKey?: string }>;
}

/** Observation jobs on BullMQ workers (`emblem observe --worker`), for more targets than one process handles. */
export interface ObserveQueueConfig {
  /** redis://[user:password@]host[:port][/db] */
  redis: string;
  /** The BullMQ queue (one coordinator per queue; its stale jobs are removed at start). */
  name: string;
  /** A job without a result after this long becomes error observations (OBSERVE_JOB_TIMEOUT). */
  jobTimeoutSeconds: number;
  /** A worker that stops renewing its job's lock this long is presumed dead and the job is handed to another. */
  lockSeconds: number;
}

export interface ObserveConfig {
  /** The file the config was read from (relative paths in it are relative to its folder). */
  path: string;
  targets: string[];
  targetsFile?: string;
  /** An `emblem org` folder: its assets are added to the targets. */
  orgDir?: string;
  vantagePoints: VantagePointConfig[];
  windowSeconds: number;
  consecutiveWindows: number;
  /** Fraction of the window over which observations of a window are spread (jitter), 0..1. */
  jitter: number;
  concurrency: number;
  evidenceDir?: string;
  database: string;
  metrics?: string;
  webhooks: WebhookConfig[];
  logList?: string;
  mode: 'validator' | 'owner';
  probes: ProbeConfig[];
  /** Owner mode: EXPIRING opens when the emblem lapses within this many seconds (set it to the renewal interval). */
  expiringWithinSeconds: number;
  era: 'jws' | 'cwt' | 'any';
  trustedKeys: string[];
  trustStore: string[];
  skipCommitmentCheck: boolean;
  queryTimeoutMs: number;
  queryAttempts: number;
  ct?: CtWatchConfig;
  queue?: ObserveQueueConfig;
}

const KEYS = new Set([
  'targets', 'targetsFile', 'orgDir', 'vantagePoints', 'windowSeconds', 'consecutiveWindows', 'jitter', 'concurrency', 'evidenceDir',
  'database', 'metrics', 'webhooks', 'logList', 'mode', 'probes', 'expiringWithinSeconds', 'era', 'trustedKeys', 'trustStore',
  'skipCommitmentCheck', 'queryTimeoutMs', 'queryAttempts', 'ct', 'queue',
]);

class Problems {
  list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(p: Problems, o: Obj, key: string, path: string, required = false): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) p.add(`${path}.${key}`, 'required');
    return undefined;
  }
  if (typeof v !== 'string' || v.length === 0) {
    p.add(`${path}.${key}`, 'must be a non-empty string');
    return undefined;
  }
  return v;
}

function int(p: Problems, o: Obj, key: string, path: string, min: number, max: number, dflt: number): number {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    p.add(`${path}.${key}`, `must be an integer ${min}..${max}`);
    return dflt;
  }
  return v;
}

function strings(p: Problems, o: Obj, key: string, path: string, max: number): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0)) {
    p.add(`${path}.${key}`, 'must be a list of non-empty strings');
    return [];
  }
  if (v.length > max) p.add(`${path}.${key}`, `at most ${max} entries`);
  return v as string[];
}

function unknownKeys(p: Problems, o: Obj, allowed: string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) p.add(`${path}.${k}`, 'unknown key');
}

/** A target name as the service stores it: lower-case, no trailing dot. Throws on a name that is not a name. */
export function normalizeTarget(text: string): string {
  if (text.length > ObserveLimits.maxTargetLength) throw new EmblemError('OBSERVE_TARGET_INVALID', `target longer than ${ObserveLimits.maxTargetLength} characters`);
  return normalizeUserName(text.trim()).replace(/\.$/, '');
}

function parseVantagePoint(p: Problems, v: unknown, path: string): VantagePointConfig | null {
  if (!isObj(v)) {
    p.add(path, 'must be a mapping {name, resolver}');
    return null;
  }
  unknownKeys(p, v, ['name', 'resolver'], path);
  const name = str(p, v, 'name', path, true);
  const resolver = str(p, v, 'resolver', path, true);
  if (name === undefined || resolver === undefined) return null;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) p.add(`${path}.name`, 'letters, digits, ".", "_" and "-" only (1..64)');
  try {
    const spec = /^https?:\/\//i.test(resolver) ? parseResolverSpec(undefined, resolver) : parseResolverSpec(resolver, undefined);
    if (spec.kind === 'system') throw new EmblemError('USAGE', 'use an explicit IP:PORT');
    return { name, resolver, spec };
  } catch (err) {
    p.add(`${path}.resolver`, `expected IP:PORT or a DoH URL (${(err as Error).message})`);
    return null;
  }
}

/** Validates a parsed YAML document; `path` is the config file (relative paths resolve against its folder). */
export function validateObserveConfig(doc: unknown, path: string): ObserveConfig {
  const p = new Problems();
  const base = dirname(path);
  const rel = (f: string | undefined) => (f === undefined ? undefined : isAbsolute(f) || f.startsWith('sqlite:') ? f : resolve(base, f));
  if (!isObj(doc)) throw new EmblemError('OBSERVE_CONFIG_INVALID', `${path}: the config must be a YAML mapping`);
  for (const k of Object.keys(doc)) if (!KEYS.has(k)) p.add(`config.${k}`, 'unknown key');

  const targets: string[] = [];
  for (const [i, t] of strings(p, doc, 'targets', 'config', ObserveLimits.maxInlineTargets).entries()) {
    try {
      targets.push(normalizeTarget(t));
    } catch (err) {
      p.add(`config.targets[${i}]`, `not a domain name (${(err as Error).message})`);
    }
  }
  const targetsFile = rel(str(p, doc, 'targetsFile', 'config'));
  const orgDir = rel(str(p, doc, 'orgDir', 'config'));
  if (targets.length === 0 && targetsFile === undefined && orgDir === undefined) p.add('config', 'needs "targets", "targetsFile" or "orgDir"');

  const vantagePoints: VantagePointConfig[] = [];
  const vps = doc.vantagePoints;
  if (!Array.isArray(vps) || vps.length === 0) p.add('config.vantagePoints', 'required: a non-empty list of {name, resolver}');
  else if (vps.length > ObserveLimits.maxVantagePoints) p.add('config.vantagePoints', `at most ${ObserveLimits.maxVantagePoints}`);
  else {
    vps.forEach((v, i) => {
      const vp = parseVantagePoint(p, v, `config.vantagePoints[${i}]`);
      if (vp) {
        if (vantagePoints.some((o) => o.name === vp.name)) p.add(`config.vantagePoints[${i}].name`, `duplicate name ${JSON.stringify(vp.name)}`);
        vantagePoints.push(vp);
      }
    });
  }

  const windowSeconds = int(p, doc, 'windowSeconds', 'config', ObserveLimits.minWindowSeconds, ObserveLimits.maxWindowSeconds, 600);
  if (doc.windowSeconds === undefined) p.add('config.windowSeconds', 'required');
  const consecutiveWindows = int(p, doc, 'consecutiveWindows', 'config', 1, ObserveLimits.maxConsecutiveWindows, 2);
  let jitter = 0.9;
  if (doc.jitter !== undefined) {
    if (typeof doc.jitter !== 'number' || !(doc.jitter >= 0 && doc.jitter <= 1)) p.add('config.jitter', 'must be a number 0..1');
    else jitter = doc.jitter;
  }
  const concurrency = int(p, doc, 'concurrency', 'config', 1, ObserveLimits.maxConcurrency, ObserveLimits.defaultConcurrency);
  const evidenceDir = rel(str(p, doc, 'evidenceDir', 'config'));
  let database = str(p, doc, 'database', 'config', true) ?? 'sqlite::memory:';
  if (database.startsWith('sqlite:') && database !== 'sqlite::memory:') database = `sqlite:${rel(database.slice('sqlite:'.length))}`;
  else if (!database.startsWith('sqlite:') && !/^postgres(ql)?:\/\//.test(database)) p.add('config.database', 'expected sqlite:PATH, sqlite::memory: or a postgres:// URL');
  const metrics = str(p, doc, 'metrics', 'config');
  if (metrics !== undefined && !/^(\[[0-9a-fA-F:]+\]|[0-9.]+|localhost):\d{1,5}$/.test(metrics)) p.add('config.metrics', 'expected HOST:PORT (e.g. 127.0.0.1:9464)');

  const webhooks: WebhookConfig[] = [];
  if (doc.webhooks !== undefined && doc.webhooks !== null) {
    if (!Array.isArray(doc.webhooks) || doc.webhooks.length > ObserveLimits.maxWebhooks) p.add('config.webhooks', `must be a list of at most ${ObserveLimits.maxWebhooks} {url, secret}`);
    else
      doc.webhooks.forEach((w, i) => {
        const path = `config.webhooks[${i}]`;
        if (!isObj(w)) return p.add(path, 'must be a mapping {url, secret}');
        unknownKeys(p, w, ['url', 'secret'], path);
        const url = str(p, w, 'url', path, true);
        const secret = str(p, w, 'secret', path, true);
        if (url !== undefined) {
          try {
            const u = new URL(url);
            if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
          } catch {
            p.add(`${path}.url`, 'must be an http(s) URL');
          }
        }
        if (secret !== undefined && secret.length < 16) p.add(`${path}.secret`, 'at least 16 characters (it keys the HMAC receivers check)');
        if (url !== undefined && secret !== undefined) webhooks.push({ url, secret });
      });
  }
  const logList = rel(str(p, doc, 'logList', 'config'));
  const mode = (str(p, doc, 'mode', 'config') ?? 'validator') as ObserveConfig['mode'];
  if (mode !== 'validator' && mode !== 'owner') p.add('config.mode', 'must be "validator" or "owner"');

  const probes: ProbeConfig[] = [];
  if (doc.probes !== undefined && doc.probes !== null) {
    // Probes touch the asset: a validator's observations must stay covert (DIEM requirements), so only an owner may.
    if (mode !== 'owner') p.add('config.probes', 'reachability probes connect to the asset: only allowed with mode: owner');
    if (!Array.isArray(doc.probes)) p.add('config.probes', 'must be a list of {target, ports}');
    else
      doc.probes.forEach((pr, i) => {
        const path = `config.probes[${i}]`;
        if (!isObj(pr)) return p.add(path, 'must be a mapping {target, ports}');
        unknownKeys(p, pr, ['target', 'ports'], path);
        const target = str(p, pr, 'target', path, true);
        const ports = pr.ports;
        if (!Array.isArray(ports) || ports.length === 0 || ports.length > ObserveLimits.maxProbePorts || ports.some((x) => !Number.isInteger(x) || x < 1 || x > 65535)) {
          return p.add(`${path}.ports`, `a list of 1..${ObserveLimits.maxProbePorts} TCP ports`);
        }
        if (target === undefined) return;
        try {
          probes.push({ target: normalizeTarget(target), ports: ports as number[] });
        } catch (err) {
          p.add(`${path}.target`, (err as Error).message);
        }
      });
  }
  const expiringWithinSeconds = int(p, doc, 'expiringWithinSeconds', 'config', 0, 366 * 86_400, 7 * 86_400);
  const era = (str(p, doc, 'era', 'config') ?? 'any') as ObserveConfig['era'];
  if (!['jws', 'cwt', 'any'].includes(era)) p.add('config.era', 'must be jws, cwt or any');
  const trustedKeys = strings(p, doc, 'trustedKeys', 'config', 1000).map((f) => rel(f)!);
  const trustStore = strings(p, doc, 'trustStore', 'config', 1000).map((f) => rel(f)!);
  let skipCommitmentCheck = false;
  if (doc.skipCommitmentCheck !== undefined) {
    if (typeof doc.skipCommitmentCheck !== 'boolean') p.add('config.skipCommitmentCheck', 'must be true or false');
    else skipCommitmentCheck = doc.skipCommitmentCheck;
  }
  const queryTimeoutMs = int(p, doc, 'queryTimeoutMs', 'config', 1, 60_000, ObserveLimits.defaultQueryTimeoutMs);
  const queryAttempts = int(p, doc, 'queryAttempts', 'config', 1, 5, ObserveLimits.defaultQueryAttempts);

  let ct: CtWatchConfig | undefined;
  if (doc.ct !== undefined && doc.ct !== null) {
    const c = doc.ct;
    if (!isObj(c)) p.add('config.ct', 'must be a mapping {organizations, logs}');
    else {
      unknownKeys(p, c, ['organizations', 'logs'], 'config.ct');
      const organizations: CtWatchConfig['organizations'] = [];
      (Array.isArray(c.organizations) ? c.organizations : []).forEach((o, i) => {
        const path = `config.ct.organizations[${i}]`;
        if (!isObj(o)) return p.add(path, 'must be a mapping {name, known}');
        unknownKeys(p, o, ['name', 'known'], path);
        const name = str(p, o, 'name', path, true);
        const known = strings(p, o, 'known', path, ObserveLimits.maxKnownCertificates).map((k) => k.toLowerCase().replace(/:/g, ''));
        for (const k of known) if (!/^[0-9a-f]{64}$/.test(k)) p.add(`${path}.known`, `${JSON.stringify(k)} is not a SHA-256 fingerprint (64 hex digits)`);
        if (name !== undefined) {
          try {
            organizations.push({ name: normalizeTarget(name), known });
          } catch (err) {
            p.add(`${path}.name`, (err as Error).message);
          }
        }
      });
      if (!Array.isArray(c.organizations) || organizations.length === 0) p.add('config.ct.organizations', 'a non-empty list of {name, known}');
      const logs: CtWatchConfig['logs'] = [];
      (Array.isArray(c.logs) ? c.logs : []).forEach((l, i) => {
        const path = `config.ct.logs[${i}]`;
        if (!isObj(l)) return p.add(path, 'must be a mapping {url, kind}');
        unknownKeys(p, l, ['url', 'kind', 'publicKey'], path);
        const url = str(p, l, 'url', path, true);
        const kind = (str(p, l, 'kind', path) ?? 'static') as 'rfc6962' | 'static';
        if (kind !== 'rfc6962' && kind !== 'static') p.add(`${path}.kind`, 'rfc6962 or static');
        const publicKey = str(p, l, 'publicKey', path); // base64 DER SPKI, as log lists carry it
        if (url !== undefined) logs.push({ url, kind, ...(publicKey ? { publicKey } : {}) });
      });
      if (c.logs !== undefined && !Array.isArray(c.logs)) p.add('config.ct.logs', 'must be a list');
      if (logs.length === 0 && logList === undefined) p.add('config.ct', 'needs "logs" here or a top-level "logList"');
      ct = { organizations, logs };
    }
  }

  let queue: ObserveQueueConfig | undefined;
  if (doc.queue !== undefined && doc.queue !== null) {
    const q = doc.queue;
    if (!isObj(q)) p.add('config.queue', 'must be a mapping {redis, name}');
    else {
      unknownKeys(p, q, ['redis', 'name', 'jobTimeoutSeconds', 'lockSeconds'], 'config.queue');
      const redis = str(p, q, 'redis', 'config.queue', true);
      if (redis !== undefined && !/^redis:\/\/[^/?#]+(\/\d{1,2})?$/.test(redis)) p.add('config.queue.redis', 'expected redis://[user:password@]host[:port][/db]');
      const name = str(p, q, 'name', 'config.queue') ?? 'emblem-observe';
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) p.add('config.queue.name', '1-64 of [A-Za-z0-9_.-]');
      const jobTimeoutSeconds = int(p, q, 'jobTimeoutSeconds', 'config.queue', 1, ObserveLimits.maxWindowSeconds, Math.max(ObserveLimits.defaultJobTimeoutSeconds, windowSeconds));
      const lockSeconds = int(p, q, 'lockSeconds', 'config.queue', 1, 3_600, ObserveLimits.defaultQueueLockSeconds);
      if (redis !== undefined) queue = { redis, name, jobTimeoutSeconds, lockSeconds };
    }
  }

  if (p.list.length) {
    throw new EmblemError('OBSERVE_CONFIG_INVALID', `${path}: ${p.list.slice(0, 10).join('; ')}${p.list.length > 10 ? ` (+${p.list.length - 10} more)` : ''}`);
  }
  return {
    path, targets, ...(targetsFile ? { targetsFile } : {}), ...(orgDir ? { orgDir } : {}), vantagePoints, windowSeconds, consecutiveWindows, jitter,
    concurrency, ...(evidenceDir ? { evidenceDir } : {}), database, ...(metrics ? { metrics } : {}), webhooks, ...(logList ? { logList } : {}),
    mode, probes, expiringWithinSeconds, era, trustedKeys, trustStore, skipCommitmentCheck, queryTimeoutMs, queryAttempts, ...(ct ? { ct } : {}),
    ...(queue ? { queue } : {}),
  };
}

/** Reads and validates observe.yaml. Codes: OBSERVE_CONFIG_UNREADABLE, OBSERVE_CONFIG_INVALID. */
export async function loadObserveConfig(path: string): Promise<ObserveConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EmblemError('OBSERVE_CONFIG_UNREADABLE', `cannot read ${path}: ${(err as Error).message}`);
  }
  if (text.length > ObserveLimits.maxConfigBytes) throw new EmblemError('OBSERVE_CONFIG_INVALID', `${path} is larger than ${ObserveLimits.maxConfigBytes} bytes`);
  const YAML = await import('yaml');
  let doc: unknown;
  try {
    doc = YAML.parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new EmblemError('OBSERVE_CONFIG_INVALID', `${path}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return validateObserveConfig(doc, resolve(path));
}
