import { Agent, request } from 'node:https';
import { request as httpRequest } from 'node:http';
import * as acme from 'acme-client';
import { EmblemError } from '../core/errors.js';
import { AcmeLimits } from './acme-limits.js';

/**
 * RFC 8555 ACME client for the root key's binding certificate (issue 10, `emblem org cert`), on top of
 * `acme-client`. Only DNS-01: the binding names (`adem-configuration.<host>`, `<kid>.adem-configuration.<host>`)
 * usually have no web server behind them, and the organisation controls its DNS through its publishing channel.
 */

/** Stable failure codes of the ACME flow; scripts match on them. */
export const AcmeErrorCodes = {
  /** The ACME directory (or a later ACME URL) could not be reached, timed out, or its TLS certificate was refused. */
  ACME_UNREACHABLE: 'ACME_UNREACHABLE',
  /** The CA refused the account, the order, a challenge or the finalization; the message carries its problem document. */
  ACME_ORDER_FAILED: 'ACME_ORDER_FAILED',
  /** Publishing (or removing) a `_acme-challenge` TXT record through the channel failed. */
  DNS01_PUBLISH_FAILED: 'DNS01_PUBLISH_FAILED',
  /** Submitting the issued chain to a CT log failed (the log is named in the message). */
  CT_SUBMIT_FAILED: 'CT_SUBMIT_FAILED',
} as const;

/** Publishes one TXT record; resolves to a function that removes it again. */
export type PublishTxt = (name: string, value: string) => Promise<() => Promise<void>>;

export interface AcmeIssueOptions {
  directoryUrl: string;
  /** PEM bundle trusted for the ACME server's own HTTPS certificate (Pebble's, a private CA's). Default: system roots. */
  caBundlePem?: string;
  /** PEM private key of the ACME account; absent = a new P-256 account key (returned, so the caller can keep it). */
  accountKey?: string;
  /** Contact for the account (mailto: URL), optional. */
  contact?: string[];
  /** The names to certify (SANs); the first is the subject CN. */
  names: string[];
  publishTxt: PublishTxt;
  /** Waits after publishing all challenge records, before asking the CA to validate (propagation to secondaries). */
  propagationDelayMs?: number;
}

export interface AcmeIssueResult {
  /** Leaf first, as the CA returned it. */
  chainPem: string;
  accountKeyPem: string;
  accountUrl: string;
}

async function challengeProblems(client: acme.Client, order: acme.Order): Promise<unknown[]> {
  const authorizations = await client.getAuthorizations(order);
  return authorizations.flatMap((a) => a.challenges.filter((c) => (c as { error?: unknown }).error).map((c) => ({ identifier: a.identifier.value, type: c.type, error: (c as { error?: unknown }).error })));
}

function accountUrlOf(client: acme.Client): string | null {
  try {
    return client.getAccountUrl();
  } catch {
    return null;
  }
}

function errorText(err: unknown): string {
  const e = err as { message?: string; response?: { data?: unknown } };
  const problem = e?.response?.data;
  const text = problem !== undefined ? `${e.message ?? ''} ${typeof problem === 'string' ? problem : JSON.stringify(problem)}` : String(e?.message ?? err);
  return text.slice(0, AcmeLimits.problemChars);
}

/** Network-level failures (no HTTP answer at all) vs. answers from the CA. */
function isNetworkError(err: unknown): boolean {
  const e = err as { code?: string; response?: unknown; isAxiosError?: boolean; message?: string };
  // acme-client 5.4's retry interceptor ends a request that never got an answer in this TypeError.
  if (err instanceof TypeError && /reading 'config'/.test(e.message ?? '')) return true;
  if (e?.response !== undefined) return false;
  return (
    typeof e?.code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNABORTED|EHOSTUNREACH|ENETUNREACH|ERR_.*|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_.*|CERT_.*)$/.test(e.code)
  );
}

function wrap(step: string, directoryUrl: string, err: unknown): EmblemError {
  if (err instanceof EmblemError) return err;
  if (isNetworkError(err)) {
    return new EmblemError(AcmeErrorCodes.ACME_UNREACHABLE, `ACME server ${directoryUrl} unreachable during ${step}: ${errorText(err)}`, { cause: err });
  }
  return new EmblemError(AcmeErrorCodes.ACME_ORDER_FAILED, `ACME ${step} failed at ${directoryUrl}: ${errorText(err)}`, { cause: err });
}

/**
 * acme-client keeps one axios instance for the whole process; the trusted CA bundle and the timeout are set on it
 * for the duration of one issuance. Issuances are serialised so two concurrent calls cannot see each other's agent.
 */
let queue: Promise<unknown> = Promise.resolve();

async function withAxiosSettings<T>(caBundlePem: string | undefined, run: () => Promise<T>): Promise<T> {
  const previous = queue;
  let release!: () => void;
  queue = new Promise<void>((resolve) => (release = resolve));
  await previous.catch(() => {});
  const defaults = acme.axios.defaults;
  const settings = (defaults as unknown as { acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number } }).acmeSettings;
  const saved = { httpsAgent: defaults.httpsAgent, timeout: defaults.timeout, retries: settings.retryMaxAttempts, delay: settings.retryDefaultDelay };
  defaults.httpsAgent = caBundlePem ? new Agent({ ca: caBundlePem, keepAlive: false }) : saved.httpsAgent;
  defaults.timeout = AcmeLimits.requestTimeoutMs;
  settings.retryMaxAttempts = AcmeLimits.retryAttempts;
  settings.retryDefaultDelay = AcmeLimits.retryDelaySeconds;
  try {
    return await run();
  } finally {
    defaults.httpsAgent = saved.httpsAgent;
    defaults.timeout = saved.timeout;
    settings.retryMaxAttempts = saved.retries;
    settings.retryDefaultDelay = saved.delay;
    release();
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, directoryUrl: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EmblemError(AcmeErrorCodes.ACME_ORDER_FAILED, `ACME order at ${directoryUrl} did not complete within ${ms / 1000} s`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Account → order → DNS-01 for every name (all TXT records published before any challenge is answered, removed
 * afterwards whatever happens) → CSR over a fresh P-256 key (the binding is in the names, not in the certified
 * key: SPEC-NOTES §5.5) → certificate chain.
 */
export async function acmeIssue(options: AcmeIssueOptions): Promise<AcmeIssueResult> {
  const { directoryUrl } = options;
  if (options.names.length === 0 || options.names.length > AcmeLimits.maxNames) {
    throw new EmblemError('USAGE', `a binding certificate names 1..${AcmeLimits.maxNames} names, got ${options.names.length}`);
  }
  await probeDirectory(directoryUrl, options.caBundlePem);
  return withAxiosSettings(options.caBundlePem, () => withDeadline(issue(options), AcmeLimits.orderTimeoutMs, directoryUrl));
}

/** One GET of the directory first, so an unreachable CA or a refused TLS certificate is reported as such, at once. */
function probeDirectory(directoryUrl: string, caBundlePem: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(directoryUrl);
    } catch {
      return reject(new EmblemError('USAGE', `ACME directory URL is not a URL: ${directoryUrl}`));
    }
    const fail = (why: string, cause?: unknown) => reject(new EmblemError(AcmeErrorCodes.ACME_UNREACHABLE, `ACME server ${directoryUrl} unreachable: ${why}`, { cause }));
    const get = url.protocol === 'https:' ? request : url.protocol === 'http:' ? httpRequest : null;
    if (!get) return reject(new EmblemError('USAGE', `ACME directory URL must be https (or http for a local test CA): ${directoryUrl}`));
    const req = get(url, { method: 'GET', timeout: AcmeLimits.requestTimeoutMs, ...(caBundlePem && url.protocol === 'https:' ? { ca: caBundlePem } : {}) }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else fail(`directory answered HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${AcmeLimits.requestTimeoutMs / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => fail(`${err.code ? `${err.code} ` : ''}${err.message}`, err));
    req.end();
  });
}

async function issue(options: AcmeIssueOptions): Promise<AcmeIssueResult> {
  const { directoryUrl } = options;
  const accountKeyPem = options.accountKey ?? (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
  const client = new acme.Client({ directoryUrl, accountKey: accountKeyPem, backoffAttempts: AcmeLimits.backoffAttempts, backoffMin: 200, backoffMax: 5_000 });

  let step = 'account registration';
  const cleanups: Array<{ name: string; remove: () => Promise<void> }> = [];
  let order: acme.Order | undefined;
  try {
    try {
      await client.createAccount({ termsOfServiceAgreed: true, ...(options.contact ? { contact: options.contact } : {}) });
    } catch (err) {
      // An existing account (HTTP 200 to newAccount): acme-client then sends an update that carries nothing new,
      // which some CAs (Pebble) refuse. The account URL is known by then, and that is all the order needs.
      if (!options.accountKey || !accountUrlOf(client)) throw err;
    }
    step = 'order';
    order = await client.createOrder({ identifiers: options.names.map((value) => ({ type: 'dns', value })) });
    step = 'authorizations';
    const authorizations = await client.getAuthorizations(order);
    const pending: Array<{ authz: acme.Authorization; challenge: { url: string; type: string; status: string; token: string } }> = [];
    for (const authz of authorizations) {
      if (authz.status === 'valid') continue;
      const challenge = authz.challenges.find((c) => c.type === 'dns-01');
      if (!challenge) throw new EmblemError(AcmeErrorCodes.ACME_ORDER_FAILED, `ACME server offers no dns-01 challenge for ${authz.identifier.value}`);
      const value = await client.getChallengeKeyAuthorization(challenge);
      const name = `_acme-challenge.${authz.identifier.value.replace(/^\*\./, '')}`;
      try {
        cleanups.push({ name, remove: await options.publishTxt(name, value) });
      } catch (err) {
        throw new EmblemError(AcmeErrorCodes.DNS01_PUBLISH_FAILED, `publishing TXT ${name}: ${(err as Error).message ?? String(err)}`, { cause: err });
      }
      pending.push({ authz, challenge });
    }
    if (options.propagationDelayMs) await new Promise((r) => setTimeout(r, options.propagationDelayMs));
    step = 'challenge validation';
    for (const { challenge } of pending) await client.completeChallenge(challenge as never);
    for (const { authz } of pending) await client.waitForValidStatus(authz);
    step = 'finalization';
    const [, csr] = await acme.crypto.createCsr({ commonName: options.names[0]!, altNames: options.names }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    const finalized = await client.finalizeOrder(order, csr);
    const valid = finalized.status === 'valid' ? finalized : await client.waitForValidStatus(finalized);
    step = 'certificate download';
    const chainPem = await client.getCertificate(valid);
    return { chainPem, accountKeyPem, accountUrl: client.getAccountUrl() };
  } catch (err) {
    const wrapped = wrap(step, directoryUrl, err);
    if (wrapped.code === AcmeErrorCodes.ACME_ORDER_FAILED && order && step === 'challenge validation') {
      // acme-client keeps only the `detail` of a problem; the challenge objects carry the whole document (type, subproblems).
      const problems = await challengeProblems(client, order).catch(() => []);
      if (problems.length) {
        throw new EmblemError(wrapped.code, `${wrapped.message}; problem documents: ${JSON.stringify(problems).slice(0, AcmeLimits.problemChars)}`, { cause: err });
      }
    }
    throw wrapped;
  } finally {
    const failures: string[] = [];
    for (const c of cleanups.reverse()) {
      await c.remove().catch((err: unknown) => failures.push(`${c.name}: ${(err as Error)?.message ?? String(err)}`));
    }
    // A leftover _acme-challenge record is harmless (it authorises nothing without the account key): report, don't fail.
    if (failures.length) process.emitWarning(`could not remove ACME challenge records: ${failures.join('; ')}`, { code: AcmeErrorCodes.DNS01_PUBLISH_FAILED });
  }
}
