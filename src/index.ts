/**
 * Emblem's Node API (`import … from 'emblem'`): verify ADEM token sets, look a name's emblem up in the DNS, scan
 * many names, sign emblems and endorsements, and check root-key commitments in Certificate Transparency.
 *
 * The surface is small on purpose: the functions below plus the report types they return. The browser-safe core
 * (no node:* imports) is `emblem/core`. Heavy adapters (DNS, scan pipeline, CT with its X.509 stack, key-file
 * encryption) are loaded on first use, so importing this module costs about as much as importing the core.
 *
 * Every function validates its input and throws an {@link EmblemError} with a stable `code` for bad arguments.
 * Verification outcomes are never thrown: they are reports (an INVALID set is a result, not an exception).
 *
 * @packageDocumentation
 */
import { EmblemError as CoreEmblemError, type ReportedError } from './core/errors.js';
import { parseAssetIdentifier } from './core/identifiers/asset.js';
import { parseOrganizationIdentifier } from './core/identifiers/organization.js';
import type { Material } from './core/material/material.js';
import { parseMaterialText } from './core/material/parse-text.js';
import type { SignatureAlgorithm } from './core/tokens/algorithms.js';
import { parsePublicJwk, parsePublicKeyPem, type PublicJwk, type PublicKey } from './core/tokens/keys.js';
import { generateSigningKey, loadSigningKey, signToken, type EmblemSpec, type EndorsementSpec, type SigningKey } from './core/tokens/sign.js';
import { DISTRIBUTION_BITS, PURPOSE_BITS, type DistributionName as CoreDistributionName, type Era as CoreEra, type PurposeName as CorePurposeName } from './core/tokens/token.js';
import { base64Decode } from './core/encoding.js';
import { skipCommitmentCheck, type CommitmentChecker, type CommitmentOutcome as CoreCommitmentOutcome, type CommitmentStatus as CoreCommitmentStatus, type LogPointer } from './core/verify/commitment.js';
import { verifyMaterial } from './core/verify/index.js';
import { isFailure as coreIsFailure, type CommitmentReport as CoreCommitmentReport, type EmblemSummary as CoreEmblemSummary, type ResultLevel as CoreResultLevel, type VerificationReport } from './core/verify/report.js';
import { installNodeSignatureVerifier } from './crypto/node-signature-verifier.js';
import { asyncSignatureVerifier } from './crypto/worker-signature-verifier.js';
import type { CommitmentPolicy, CtCommitmentChecker, DetailedCommitmentOutcome as CoreDetailedCommitmentOutcome } from './ct/commitment-checker.js';
import type { EmbeddedSctEntry, LogEntryJson } from './ct/leaf-hash.js';
import type { DiscoveryEra as CoreDiscoveryEra, DiscoveryOptions } from './dns/discovery.js';
import type { CheckReport as CoreCheckReport } from './dns/name-check.js';
import type { ResolverSpec } from './dns/resolver.js';
import type { ScanResult } from './validator/scan-target.js';

// ---- re-exported types and values ------------------------------------------------------------------------------
// Documented where they are defined; the ones defined without a comment get an alias with one here.

export type { ReportedError } from './core/errors.js';
export type { Material } from './core/material/material.js';
export type { SignatureAlgorithm } from './core/tokens/algorithms.js';
export type { PublicJwk, PublicKey, SignatureVerifier } from './core/tokens/keys.js';
export type { SigningKey } from './core/tokens/sign.js';
export type { CommitmentChecker, CommitmentRequest, LogPointer } from './core/verify/commitment.js';
export { skipCommitmentCheck } from './core/verify/commitment.js';
export { RESULT_ORDER, type Level, type VerificationReport } from './core/verify/report.js';
export { parseMaterialText } from './core/material/parse-text.js';
export { installNodeSignatureVerifier } from './crypto/node-signature-verifier.js';
export { threadPoolSignatureVerifier } from './crypto/thread-pool-signature-verifier.js';
export { WorkerSignatureVerifier, asyncSignatureVerifier } from './crypto/worker-signature-verifier.js';
export type { CommitmentPolicy, CtCommitmentChecker, LogEntryReport } from './ct/commitment-checker.js';
export type { EmbeddedSctEntry, LogEntryJson } from './ct/leaf-hash.js';
export type { DiscoveryReport, DiscoveryQuery } from './dns/discovery.js';
export type { CheckedTokenSet, CheckStatus } from './dns/name-check.js';
export type { ResolverSpec } from './dns/resolver.js';
export type { ScanResult } from './validator/scan-target.js';

/** The error every function throws for bad input: `code` is stable (`USAGE`, `KEY_INVALID`, `DNS_NAME_INVALID`, ...). */
export const EmblemError: typeof CoreEmblemError = CoreEmblemError;
/** The error every function throws for bad input (see {@link EmblemError}). */
export type EmblemError = CoreEmblemError;
/** True when a report's result is INVALID or UNSIGNED only: no emblem verified. */
export const isFailure: typeof coreIsFailure = coreIsFailure;
/** A token format: `jws` (CORE-01, DNS TXT, deployed today) or `cwt` (CORE-02, IHLE records). */
export type Era = CoreEra;
/** An emblem purpose: protective, indicative (JWS era), and the CORE-02 additions. */
export type PurposeName = CorePurposeName;
/** A distribution method an emblem may be found by (JWS era `dst`): dns, udp, tls, icmp. */
export type DistributionName = CoreDistributionName;
/** Which records a lookup asks for: `jws` TXT, `cwt` IHLE, or `any` (both). */
export type DiscoveryEra = CoreDiscoveryEra;
/** A CORE-01 result level such as `ORGANIZATIONAL-TRUSTED`, from weakest (INVALID) to strongest. */
export type ResultLevel = CoreResultLevel;
/** The `commitment` field of a report: whether root-key commitments were verified, skipped, failed or not needed. */
export type CommitmentReport = CoreCommitmentReport;
/** What a verified emblem states (the report's `emblem` field). */
export type EmblemSummary = CoreEmblemSummary;
/** A commitment checker's answer for one endorsement: status and the errors behind a failure. */
export type CommitmentOutcome = CoreCommitmentOutcome;
/** `verified`, `failed` or `skipped`. */
export type CommitmentStatus = CoreCommitmentStatus;
/** A CT checker's answer with one report per `log` entry checked. */
export type DetailedCommitmentOutcome = CoreDetailedCommitmentOutcome;
/** The result of {@link checkName} for one name (one line of {@link scan}): the object `emblem check --json` prints. */
export type CheckReport = CoreCheckReport;

// ---- shared options --------------------------------------------------------------------------------------------

/** How {@link createCommitmentChecker} checks root-key commitments in Certificate Transparency. */
export interface CtCheckOptions {
  /** v3 `log_list.json` files or URLs to trust, merged in order. Default: the Google and Apple lists (fetched, cached). */
  logList?: string[];
  /** `all` (default): every `log` entry of an endorsement must verify; `any`: one verified entry suffices. */
  policy?: CommitmentPolicy;
  /** An expired binding certificate fails the commitment (default: reported, not failed). */
  failOnExpiredBinding?: boolean;
  /** Where fetched log lists and seen tree heads are kept. Default: $EMBLEM_CACHE_DIR, else ~/.cache/emblem. */
  cacheDir?: string;
}

/**
 * How root-key commitments (CT) are handled. Required, so that no call goes to the network by surprise:
 * `'skip'` reports `"commitment": "skipped"`; a {@link CommitmentChecker} (for instance from
 * {@link createCommitmentChecker}, reused across calls to keep its caches warm) is asked as is; {@link CtCheckOptions}
 * builds a fresh CT checker for this call.
 */
export type CommitmentsOption = 'skip' | CommitmentChecker | CtCheckOptions;

/**
 * A public key given to a verifier: a parsed {@link PublicKey}, a public JWK object, a PEM SubjectPublicKeyInfo or
 * JWK JSON text, or {@link Material}.
 */
export type PublicKeyInput = PublicKey | PublicJwk | Material | string | Record<string, unknown>;

/** What every verifying function takes. */
export interface VerificationOptions {
  /** Verify as of this time (default: now). Pass it to re-verify what was valid at an earlier moment. */
  at?: Date;
  /** Keys trusted out of band (CORE-01's trusted keys). */
  trustedKeys?: PublicKeyInput[];
  /** Root-key commitment checks in Certificate Transparency. */
  commitments: CommitmentsOption;
  /**
   * `spec` (default): an emblem without issuer and endorsements is SIGNED-UNTRUSTED, as the drafts say.
   * `prototype`: INVALID unless signed by a trusted key, as the Go and JS prototypes do.
   */
  policy?: 'spec' | 'prototype';
}

function usage(message: string): EmblemError {
  return new EmblemError('USAGE', message);
}

function verificationTime(at: Date | undefined): Date {
  if (at === undefined) return new Date();
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw usage('`at` must be a valid Date');
  return at;
}

function policyOf(policy: VerificationOptions['policy']): 'spec' | 'prototype' {
  if (policy === undefined) return 'spec';
  if (policy !== 'spec' && policy !== 'prototype') throw usage('`policy` must be "spec" or "prototype"');
  return policy;
}

function isChecker(value: unknown): value is CommitmentChecker {
  return typeof value === 'object' && value !== null && typeof (value as CommitmentChecker).check === 'function';
}

async function commitmentsFrom(option: CommitmentsOption | undefined): Promise<CommitmentChecker> {
  if (option === 'skip') return skipCommitmentCheck;
  if (isChecker(option)) return option;
  if (typeof option === 'object' && option !== null) return createCommitmentChecker(option);
  throw usage('`commitments` is required: "skip", a CommitmentChecker, or CT options such as { logList: [...] }');
}

/** Key input as Material, the form that also crosses into verification threads. */
function keyMaterial(input: PublicKeyInput, i: number): Material {
  const source = `trustedKeys[${i}]`;
  if (typeof input === 'string') {
    const text = input.trim();
    if (text.startsWith('-----BEGIN')) return { kind: 'spki-pem', pem: text, source };
    try {
      return { kind: 'jwk', jwk: JSON.parse(text) as unknown, source };
    } catch {
      throw new EmblemError('KEY_INVALID', `${source}: neither a PEM public key nor JWK JSON`);
    }
  }
  if (typeof input !== 'object' || input === null) throw new EmblemError('KEY_INVALID', `${source}: not a key`);
  if ('kind' in input && typeof input.kind === 'string') return input as Material;
  if ('jwsKid' in input && 'jwk' in input) return { kind: 'jwk', jwk: (input as PublicKey).jwk, source };
  return { kind: 'jwk', jwk: input, source };
}

function trustedKeyMaterial(keys: PublicKeyInput[] | undefined): Material[] {
  if (keys === undefined) return [];
  if (!Array.isArray(keys)) throw usage('`trustedKeys` must be an array');
  return keys.map(keyMaterial);
}

let nodeVerifierInstalled = false;

/** node:crypto verifies signatures for the whole process (~25% less CPU than WebCrypto), installed once. */
function useNodeCrypto(): void {
  if (nodeVerifierInstalled) return;
  installNodeSignatureVerifier();
  nodeVerifierInstalled = true;
}

// ---- verify ----------------------------------------------------------------------------------------------------

/** Options of {@link verifyTokenSet}. */
export interface VerifyTokenSetOptions extends VerificationOptions {
  /** Name of the input, prefixed to parse errors (default `input`). */
  source?: string;
  /**
   * Verify the signatures on worker threads (one per core, EMBLEM_VERIFY_WORKERS=N to change; each runs the same
   * synchronous verifier) instead of on the calling thread, which keeps parsing and the chain logic: the report is
   * the same, and several calls in flight use several cores. One call at a time it is slower than the default (a
   * round trip to a thread per set); with 8 in flight it verifies more sets per second than the default one at a
   * time (docs/performance.md). Default false. EMBLEM_NO_VERIFY_WORKERS=1 uses WebCrypto on libuv's thread pool
   * instead; EMBLEM_NO_ASYNC_VERIFY=1 verifies synchronously. The threads start at the first call and do not keep
   * an idle process alive.
   */
  threadPool?: boolean;
}

/**
 * Verifies one token set (an emblem with its endorsements and keys) and returns the report `emblem verify --json`
 * prints. `input` is text with one item per line (JWS token, CWT hex, JWK JSON, `adem-token=`/`adem-key=` TXT
 * record) or already-split {@link Material}. Unreadable items are reported in `errors`, never thrown. Installs
 * node:crypto as the process's signature verifier.
 *
 * @example
 * const report = await verifyTokenSet(text, { at: new Date('2026-06-01T00:00:00Z'), commitments: 'skip' });
 * if (!isFailure(report)) console.log(report.result, report.protected);
 */
export async function verifyTokenSet(input: string | Material[], options: VerifyTokenSetOptions): Promise<VerificationReport> {
  if (typeof options !== 'object' || options === null) throw usage('verifyTokenSet needs options (at least { commitments })');
  const now = verificationTime(options.at);
  const policy = policyOf(options.policy);
  const trustedKeys = trustedKeyMaterial(options.trustedKeys);
  const commitments = await commitmentsFrom(options.commitments);
  let material: Material[];
  let inputErrors: ReportedError[] = [];
  if (typeof input === 'string') {
    ({ material, errors: inputErrors } = parseMaterialText(input, options.source ?? 'input'));
  } else if (Array.isArray(input)) {
    material = input;
  } else {
    throw usage('verifyTokenSet takes text or an array of Material');
  }
  useNodeCrypto();
  const verifier = options.threadPool === true ? asyncSignatureVerifier() : undefined;
  return verifyMaterial(material, { now, trustedKeys, commitments, inputErrors, policy: { unauthenticatedChain: policy }, verifier });
}

// ---- DNS: one name ---------------------------------------------------------------------------------------------

/** How names are looked up (never by contacting the asset: only the resolver sees the question). */
export interface LookupOptions {
  /**
   * Where queries go: `"system"` (default, /etc/resolv.conf), `"IP"`, `"IP:PORT"`, `"[IPv6]:PORT"`, an
   * `https://` DNS-over-HTTPS URL (RFC 8484), or a {@link ResolverSpec}.
   */
  resolver?: string | ResolverSpec;
  /** `jws`: TXT records (DNS-01); `cwt`: IHLE records (DNS-02); `any` (default): both. */
  era?: DiscoveryEra;
  /** RR type code of IHLE (default 65400). */
  ihleType?: number;
  /** Timeout per query attempt in ms, 1..60000 (default 3000). */
  timeoutMs?: number;
  /** Attempts per query, 1..5 (default 2). */
  attempts?: number;
}

/** Options of {@link checkName}. */
export interface CheckNameOptions extends VerificationOptions, LookupOptions {}

function intInRange(value: number | undefined, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) throw usage(`\`${name}\` must be an integer ${min}..${max}`);
  return value;
}

async function discoveryOptions(options: LookupOptions): Promise<DiscoveryOptions> {
  const { parseResolverSpec } = await import('./dns/resolver.js');
  const { DEFAULT_IHLE_TYPE } = await import('./dns/rr-type.js');
  let resolver: ResolverSpec;
  const r = options.resolver;
  if (r === undefined) resolver = { kind: 'system' };
  else if (typeof r === 'string') resolver = /^https?:\/\//i.test(r) ? parseResolverSpec(undefined, r) : parseResolverSpec(r, undefined);
  else if (typeof r === 'object' && r !== null && ['udp', 'doh', 'system'].includes((r as ResolverSpec).kind)) resolver = r;
  else throw usage('`resolver` must be "system", "IP[:PORT]", an https:// DoH URL, or a ResolverSpec');
  const era = options.era ?? 'any';
  if (!['jws', 'cwt', 'any'].includes(era)) throw usage('`era` must be "jws", "cwt" or "any"');
  return {
    resolver,
    era,
    ihleType: intInRange(options.ihleType, 'ihleType', 1, 65535, DEFAULT_IHLE_TYPE),
    timeoutMs: intInRange(options.timeoutMs, 'timeoutMs', 1, 60_000, 3000),
    attempts: intInRange(options.attempts, 'attempts', 1, 5, 2),
  };
}

/**
 * Looks up the emblem records of `name` through a resolver and verifies every token set found: the object
 * `emblem check --json` prints. `status` is `protected` only when a valid emblem names this name (or one of its
 * addresses). A failed lookup is status `error` (could not check), never `invalid`. Throws only for bad arguments
 * (`DNS_NAME_INVALID` for an unusable name, `USAGE` for a malformed resolver or option).
 */
export async function checkName(name: string, options: CheckNameOptions): Promise<CheckReport> {
  if (typeof options !== 'object' || options === null) throw usage('checkName needs options (at least { commitments })');
  if (typeof name !== 'string') throw usage('checkName: name must be a string');
  const now = verificationTime(options.at);
  const policy = policyOf(options.policy);
  const trustedKeys = trustedKeyMaterial(options.trustedKeys);
  const discovery = await discoveryOptions(options);
  const commitments = await commitmentsFrom(options.commitments);
  const { normalizeUserName } = await import('./dns/domain-name.js');
  const nameCheck = await import('./dns/name-check.js');
  const key = normalizeUserName(name);
  useNodeCrypto();
  return nameCheck.checkName(key, discovery, (material) =>
    verifyMaterial(material, { now, trustedKeys, commitments, policy: { unauthenticatedChain: policy } }),
  );
}

// ---- DNS: many names -------------------------------------------------------------------------------------------

/** Options of {@link scan}. */
export interface ScanOptions extends VerificationOptions, LookupOptions {
  /** Names checked at once (default 100, at most 4096). */
  concurrency?: number;
  /** At most this many DNS queries per second over the whole scan (default: unlimited; set one for a real resolver). */
  qps?: number;
  /** Verification threads (default 0: verify on this thread; large scans gain from one per core). */
  workers?: number;
  /** Aborting stops taking new names; names already in flight finish and are yielded. */
  signal?: AbortSignal;
}

/**
 * Checks many names, like `emblem scan`, and yields one {@link ScanResult} per name in input order (`index` counts
 * names from 0). Memory stays bounded however long the input: names are pulled only when a slot is free. A bad
 * name or a failed lookup becomes a result with status `error`; the iteration itself throws only for bad options.
 * Prints nothing. Results share caches: an endorsement carried by many emblems is verified and CT-checked once.
 *
 * @example
 * for await (const { index, report } of scan(['a.example', 'b.example'], { resolver: '127.0.0.1:53', commitments: 'skip' })) {
 *   console.log(index, report.target, report.status);
 * }
 */
export async function* scan(names: AsyncIterable<string> | Iterable<string>, options: ScanOptions): AsyncGenerator<ScanResult, void, undefined> {
  if (typeof options !== 'object' || options === null) throw usage('scan needs options (at least { commitments })');
  const { ScanLimits } = await import('./validator/limits.js');
  const now = verificationTime(options.at);
  const policy = policyOf(options.policy);
  const trustedKeys = trustedKeyMaterial(options.trustedKeys);
  const concurrency = intInRange(options.concurrency, 'concurrency', 1, ScanLimits.maxConcurrency, ScanLimits.defaultConcurrency);
  const workers = intInRange(options.workers, 'workers', 0, ScanLimits.maxWorkers, 0);
  const qps = options.qps === undefined ? null : intInRange(options.qps, 'qps', 1, ScanLimits.maxQps, 1);
  const discovery = await discoveryOptions(options);
  const inner = await commitmentsFrom(options.commitments);
  const iterator = namesIterator(names);

  const [{ CachingCommitmentChecker }, { RateLimiter }, { VerificationPool }, { checkTarget }, { reportError }] = await Promise.all([
    import('./validator/commitment-cache.js'),
    import('./validator/rate-limiter.js'),
    import('./validator/verify-pool.js'),
    import('./validator/target-check.js'),
    import('./core/errors.js'),
  ]);
  useNodeCrypto();
  const commitments = inner === skipCommitmentCheck ? skipCommitmentCheck : new CachingCommitmentChecker(inner);
  const pool = new VerificationPool({ workers, now, trustedKeys, policy: { unauthenticatedChain: policy }, commitments });
  const ctx = { discovery, queries: qps === null ? null : new RateLimiter(qps), verify: (m: Material[]) => pool.verify(m) };

  // Finished results wait here until every earlier one is out; the window bounds them as in `emblem scan`.
  const finished = new Map<number, ScanResult>();
  let nextOut = 0;
  let started = 0;
  let inFlight = 0;
  let exhausted = false;
  let inputEnded = false;
  let wake: (() => void) | null = null;
  try {
    for (;;) {
      while (!exhausted && inFlight < concurrency && finished.size < ScanLimits.maxReorderWindow) {
        if (options.signal?.aborted) {
          exhausted = true;
          break;
        }
        const next = await iterator.next();
        if (next.done) {
          exhausted = inputEnded = true;
          break;
        }
        const index = started++;
        const name = String(next.value);
        inFlight++;
        void checkTarget({ index, name }, ctx)
          .catch((err: unknown): CheckReport => ({ target: name, status: 'error', level: null, sets: [], discovery: null, errors: [reportError(err)] }))
          .then((report) => {
            finished.set(index, { index, report });
            inFlight--;
            const w = wake;
            wake = null;
            w?.();
          });
      }
      const ready = finished.get(nextOut);
      if (ready !== undefined) {
        finished.delete(nextOut);
        nextOut++;
        yield ready;
        continue;
      }
      if (exhausted && inFlight === 0) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    // Also reached when the caller stops iterating early: release the input and the verification threads.
    if (!inputEnded) await iterator.return?.();
    await pool.close();
  }
}

function namesIterator(names: AsyncIterable<string> | Iterable<string>): AsyncIterator<string> | Iterator<string> {
  if (typeof names === 'object' && names !== null) {
    const asyncIt = (names as Partial<AsyncIterable<string>>)[Symbol.asyncIterator];
    if (typeof asyncIt === 'function') return asyncIt.call(names);
    const it = (names as Partial<Iterable<string>>)[Symbol.iterator];
    if (typeof it === 'function') return it.call(names);
  }
  // A bare string is iterable too, but as characters: never what a caller means.
  throw usage('scan takes an iterable or async iterable of names (an array, a generator, a readline interface)');
}

// ---- keys and signing ------------------------------------------------------------------------------------------

/** A new key pair from {@link generateKey}. */
export interface GeneratedKey {
  /** The private key as a JWK (with `alg`, without `kid`): keep it secret, e.g. with {@link writePrivateKeyFile}. */
  privateJwk: Jwk;
  /** The public key as a JWK, to publish or to endorse. */
  publicJwk: PublicJwk;
  /** The key's JWS-era kid (JWK thumbprint). */
  kid: string;
  /** The key's CWT-era kid (COSE key thumbprint, hex). */
  cwtKid: string;
  /** The loaded key, ready for {@link signEmblem} and {@link signEndorsement}. */
  signingKey: SigningKey;
}

/**
 * A JSON Web Key as a plain object; a private key carries `d`. (Declared here rather than using the DOM's
 * `JsonWebKey`, so that this module's signatures type-check in Node projects without the DOM library.)
 */
export interface Jwk {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  alg?: string;
  [member: string]: unknown;
}

const ALGS: readonly SignatureAlgorithm[] = ['ES512', 'ES384', 'ES256', 'EdDSA'];

/** Generates a signing key pair (default ES512, as deployed ADEM keys are). */
export async function generateKey(alg: SignatureAlgorithm = 'ES512'): Promise<GeneratedKey> {
  if (!ALGS.includes(alg)) throw usage(`alg must be one of ${ALGS.join(', ')}`);
  const { privateJwk, key } = await generateSigningKey(alg);
  return { privateJwk: { ...privateJwk }, publicJwk: key.publicKey.jwk, kid: key.publicKey.jwsKid, cwtKid: key.publicKey.coseKidText, signingKey: key };
}

/** Loads a private JWK (from {@link generateKey}, `emblem keygen`, or {@link readPrivateKeyFile}) for signing. */
export function loadKey(privateJwk: unknown): Promise<SigningKey> {
  return loadSigningKey(privateJwk);
}

/** Parses a public key (JWK object, JWK JSON or PEM SubjectPublicKeyInfo text); throws `KEY_INVALID`. */
export async function parsePublicKey(input: PublicJwk | Record<string, unknown> | string): Promise<PublicKey> {
  if (typeof input === 'string') {
    const text = input.trim();
    if (text.startsWith('-----BEGIN')) return parsePublicKeyPem(text);
    try {
      return parsePublicJwk(JSON.parse(text));
    } catch (err) {
      if (err instanceof EmblemError) throw err;
      throw new EmblemError('KEY_INVALID', 'neither a PEM public key nor JWK JSON');
    }
  }
  return parsePublicJwk(input);
}

/** Writes a private key file as `emblem keygen` does: mode 0600, atomically, a JWE when `passphrase` is given. */
export async function writePrivateKeyFile(path: string, privateJwk: Jwk, passphrase?: string): Promise<{ encrypted: boolean }> {
  const store = await import('./store/key-file.js');
  if (typeof privateJwk !== 'object' || privateJwk === null || typeof privateJwk.d !== 'string') throw new EmblemError('KEY_INVALID', 'not a private JWK (no "d")');
  return store.writePrivateKeyFile(path, privateJwk as JsonWebKey, passphrase);
}

/** Reads a private key file written by `emblem keygen` or {@link writePrivateKeyFile} (plain JWK or JWE). */
export async function readPrivateKeyFile(path: string, passphrase?: string): Promise<Jwk> {
  const store = await import('./store/key-file.js');
  return { ...(await store.readPrivateKeyFile(path, passphrase)) };
}

/** Validity of a token. */
export interface Validity {
  /** Start of validity (`nbf`). */
  notBefore: Date;
  /** End of validity (`exp`); after `notBefore`. */
  expires: Date;
  /** Issue time (`iat`); default `notBefore`. */
  issuedAt?: Date;
}

/** What an emblem states ({@link signEmblem}). */
export interface EmblemClaims extends Validity {
  /** Asset identifiers: `domain`, `*.domain`, `[IPv6]`, `[IPv6/len]`, `[IPv4]`. */
  assets: string[];
  /** Issuer organisation identifier, `https://<host>` (`iss`). */
  issuer?: string;
  /** Default `['protective']`. JWS era: protective, indicative. */
  purposes?: PurposeName[];
  /** JWS era only: distribution methods (`dst`). */
  distribution?: DistributionName[];
}

/** What an endorsement states ({@link signEndorsement}). */
export interface EndorsementClaims extends Validity {
  /** The endorsed public key (`key`). */
  endorse: PublicKey | PublicJwk | Record<string, unknown>;
  /** Issuer organisation identifier (`iss`). */
  issuer?: string;
  /** Organisation identifier of the endorsed key (`sub`); for internal endorsements, the emblem's issuer. */
  subject?: string;
  /** The endorsed key may itself endorse keys (`end`; set on every link above the emblem key). Default false. */
  mayEndorse?: boolean;
  /** Purposes the endorsed key may claim; absent = unconstrained. */
  purposes?: PurposeName[];
  /** JWS era only: distribution methods allowed. */
  distribution?: DistributionName[];
  /** JWS era only: assets the endorsed key may mark. */
  assets?: string[];
  /** JWS era only: longest emblem lifetime allowed, in seconds (`wnd`). */
  maxEmblemLifetimeSeconds?: number;
  /** CT log entries of the binding certificate (as {@link logEntriesFromChain} gives them); required on root endorsements. */
  log?: Array<LogEntryJson | LogPointer>;
}

/** How a token is encoded. */
export interface SignOptions {
  /** `jws` (default): CORE-01 JWS compact, as deployed; `cwt`: CORE-02 CWT, returned as hex. */
  era?: Era;
  /** JWS only: put the public key in the header (`jwk`) instead of naming it by `kid`. */
  embedKey?: boolean;
}

function seconds(date: unknown, name: string): number {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw usage(`\`${name}\` must be a valid Date`);
  return Math.floor(date.getTime() / 1000);
}

function times(claims: Validity): { iat: number; nbf: number; exp: number } {
  const nbf = seconds(claims.notBefore, 'notBefore');
  const exp = seconds(claims.expires, 'expires');
  if (exp <= nbf) throw usage('`expires` must be after `notBefore`');
  return { nbf, exp, iat: claims.issuedAt === undefined ? nbf : seconds(claims.issuedAt, 'issuedAt') };
}

function organization(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    return parseOrganizationIdentifier(value).text;
  } catch (err) {
    throw usage(`\`${name}\`: ${(err as Error).message}`);
  }
}

function assetList(values: unknown, name: string): string[] {
  if (!Array.isArray(values) || values.length === 0) throw usage(`\`${name}\` must be a non-empty array of asset identifiers`);
  for (const v of values) {
    try {
      parseAssetIdentifier(String(v));
    } catch (err) {
      throw usage(`\`${name}\` ${String(v)}: ${(err as Error).message}`);
    }
  }
  return values.map(String);
}

function names<T extends string>(values: T[] | undefined, table: Record<T, number>, name: string): T[] | undefined {
  if (values === undefined) return undefined;
  if (!Array.isArray(values)) throw usage(`\`${name}\` must be an array`);
  for (const v of values) if (!Object.hasOwn(table, v)) throw usage(`\`${name}\` must hold ${Object.keys(table).join(', ')}; got ${String(v)}`);
  return values;
}

function logPointers(entries: Array<LogEntryJson | LogPointer> | undefined): LogPointer[] | undefined {
  if (entries === undefined) return undefined;
  if (!Array.isArray(entries)) throw usage('`log` must be an array of log entries');
  const bytes32 = (value: unknown, field: string, i: number): Uint8Array => {
    let b: Uint8Array | null = null;
    try {
      b = value instanceof Uint8Array ? value : base64Decode(String(value));
    } catch {
      // reported below
    }
    if (b === null || b.length !== 32) throw usage(`\`log\` entry ${i}: "${field}" must be 32 bytes (standard base64 in JSON)`);
    return b;
  };
  return entries.map((e, i) => {
    if (typeof e !== 'object' || e === null) throw usage(`\`log\` entry ${i} is not an object`);
    const entry = e as { id?: unknown; hash?: unknown; index?: unknown };
    const id = bytes32(entry.id, 'id', i);
    if (entry.index !== undefined) {
      const index = entry.index;
      if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) throw usage(`\`log\` entry ${i}: "index" must be a non-negative integer`);
      return { ver: 'static', id, index };
    }
    return { ver: 'v1', id, hash: bytes32(entry.hash, 'hash', i) };
  });
}

async function signingKeyOf(key: SigningKey | Jwk): Promise<SigningKey> {
  if (typeof key === 'object' && key !== null && ('cryptoKey' in key || 'signRaw' in key) && 'publicKey' in key) return key as SigningKey;
  return loadSigningKey(key);
}

function eraOf(options: SignOptions): Era {
  const era = options.era ?? 'jws';
  if (era !== 'jws' && era !== 'cwt') throw usage('`era` must be "jws" or "cwt"');
  return era;
}

/**
 * Signs an emblem. Returns the token as published: JWS compact text, or for the CWT era the CWT as hex.
 * `key` is a {@link SigningKey} or a private JWK.
 */
export async function signEmblem(claims: EmblemClaims, key: SigningKey | Jwk, options: SignOptions = {}): Promise<string> {
  if (typeof claims !== 'object' || claims === null) throw usage('signEmblem needs claims');
  const spec: EmblemSpec = {
    ...times(claims),
    assets: assetList(claims.assets, 'assets'),
    purposes: names(claims.purposes, PURPOSE_BITS, 'purposes'),
    distribution: names(claims.distribution, DISTRIBUTION_BITS, 'distribution'),
  };
  const iss = organization(claims.issuer, 'issuer');
  if (iss !== undefined) spec.iss = iss;
  const token = await signToken(eraOf(options), 'emblem', spec, await signingKeyOf(key), { embedKey: options.embedKey === true });
  return token.text;
}

/**
 * Signs an endorsement of another key (internal: same issuer as the emblem; external: an authority endorsing an
 * organisation; root: carries `log` entries committing the key in CT). Returns JWS compact text or CWT hex.
 */
export async function signEndorsement(claims: EndorsementClaims, key: SigningKey | Jwk, options: SignOptions = {}): Promise<string> {
  if (typeof claims !== 'object' || claims === null) throw usage('signEndorsement needs claims');
  const endorse = typeof claims.endorse === 'object' && claims.endorse !== null && 'jwsKid' in claims.endorse ? (claims.endorse as PublicKey) : parsePublicJwk(claims.endorse);
  const window = claims.maxEmblemLifetimeSeconds;
  if (window !== undefined && (!Number.isSafeInteger(window) || window <= 0)) throw usage('`maxEmblemLifetimeSeconds` must be a positive integer');
  const spec: EndorsementSpec = {
    ...times(claims),
    endorse,
    end: claims.mayEndorse === true,
    purposes: names(claims.purposes, PURPOSE_BITS, 'purposes'),
    distribution: names(claims.distribution, DISTRIBUTION_BITS, 'distribution'),
    assets: claims.assets === undefined ? undefined : assetList(claims.assets, 'assets'),
    window,
    log: logPointers(claims.log),
  };
  const iss = organization(claims.issuer, 'issuer');
  const sub = organization(claims.subject, 'subject');
  if (iss !== undefined) spec.iss = iss;
  if (sub !== undefined) spec.sub = sub;
  const token = await signToken(eraOf(options), 'endorsement', spec, await signingKeyOf(key), { embedKey: options.embedKey === true });
  return token.text;
}

// ---- Certificate Transparency ----------------------------------------------------------------------------------

/**
 * A Certificate Transparency commitment checker: for each `log`-bearing endorsement it fetches the log list, the
 * log's signed tree head and an inclusion proof, re-hashes the entry, and checks that the logged certificate binds
 * the key to the issuer. Reuse one checker across calls: its caches (log list, tree heads, proven entries) stay warm.
 * Network access happens on the first check, not here.
 */
export async function createCommitmentChecker(options: CtCheckOptions = {}): Promise<CtCommitmentChecker> {
  if (typeof options !== 'object' || options === null) throw usage('createCommitmentChecker takes an options object');
  if (options.logList !== undefined && (!Array.isArray(options.logList) || options.logList.some((s) => typeof s !== 'string'))) {
    throw usage('`logList` must be an array of file paths or URLs');
  }
  if (options.policy !== undefined && options.policy !== 'all' && options.policy !== 'any') throw usage('`policy` must be "all" or "any"');
  const [{ CtCommitmentChecker }, { DEFAULT_LOG_LIST_URLS, defaultCacheDir, loadLogLists }, { TreeHeadStore }, { join }] = await Promise.all([
    import('./ct/commitment-checker.js'),
    import('./ct/log-list-source.js'),
    import('./ct/tree-head-store.js'),
    import('node:path'),
  ]);
  const sources = options.logList?.length ? options.logList : [...DEFAULT_LOG_LIST_URLS];
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  return new CtCommitmentChecker({
    logDirectory: () => loadLogLists(sources, { cacheDir }),
    policy: options.policy ?? 'all',
    binding: { failOnExpired: options.failOnExpiredBinding === true },
    treeHeads: new TreeHeadStore(join(cacheDir, 'tree-heads.json')),
  });
}

/**
 * The CT `log` entries of a binding certificate, as `emblem ct leafhash` prints them: one per embedded SCT, each
 * with the RFC 6962 leaf hash. `chain` is PEM text (leaf first, then its issuer) or DER certificates. Pass the
 * entries' `log` objects to {@link signEndorsement}.
 */
export async function logEntriesFromChain(chain: string | Uint8Array[]): Promise<EmbeddedSctEntry[]> {
  const [{ parsePemCertificates }, leafHash] = await Promise.all([import('./ct/certificate.js'), import('./ct/leaf-hash.js')]);
  const certificates = typeof chain === 'string' ? parsePemCertificates(chain) : chain;
  if (!Array.isArray(certificates) || certificates.length === 0) throw usage('the chain holds no certificate');
  return leafHash.logEntriesFromChain(certificates);
}
