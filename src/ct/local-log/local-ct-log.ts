import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { MerkleTree } from '../../core/merkle/tree.js';
import { isSignedBy, issuerKeyHash, isPrecertificate, PRECERT_POISON_OID, tbsOf, tbsWithoutExtension } from '../certificate.js';
import { CertificateSet, validateCertificateChain } from '../chain-validation.js';
import { formatCheckpoint } from '../checkpoint.js';
import { EmblemError } from '../../core/errors.js';
import { ctError, CtErrorCodes } from '../errors.js';
import { leafHashOf } from '../leaf-hash.js';
import { encodeTimestampedEntry, type TimestampedEntry } from '../merkle-tree-leaf.js';
import { leafIndexExtension, type SignedCertificateTimestamp } from '../sct.js';
import { encodeDigitallySigned, signDigitallySigned } from '../signature.js';
import { concatBytes, toBase64 } from '../bytes.js';
import { treeHeadSignatureInput, type TreeHead } from '../tree-head.js';
import { LocalLogStore, type LocalLogEntry } from './local-log-store.js';

export interface LocalCtLogOptions {
  /** Accepted roots (DER). Submissions must chain to one of them. */
  roots: Uint8Array[];
  /** State directory (key + entries); none = in memory only. */
  store?: LocalLogStore | null;
  /** How long submissions wait to be sequenced together; the default keeps the merge delay far below 1 s. */
  batchMs?: number;
  now?: () => number;
  /**
   * 'full' (default, like production logs): chains are validated as the verifier does (signatures, CA:TRUE and
   * keyCertSign on every issuer, issuers valid now, ending at an accepted root). 'signatures-only' is for tests
   * only: a log that stores chains a production log refuses (e.g. a CA:FALSE issuer), to prove verifiers catch them.
   */
  chainValidation?: 'full' | 'signatures-only';
}

interface Pending {
  /** Validated chain, leaf first, ending at an accepted root. */
  chain: Uint8Array[];
  precertificate: boolean;
  resolve: (sct: SignedCertificateTimestamp) => void;
  reject: (err: unknown) => void;
}

/** A signed tree head in both of the forms this log publishes. */
export interface PublishedHead extends TreeHead {
  /** TLS DigitallySigned bytes of the RFC 6962 TreeHeadSignature. */
  signature: Uint8Array;
}

/**
 * A small CT log for tests and the demo: accepts chains to configured roots, sequences pending submissions in
 * batches, gives each the next index (its SCT carries it as the static-ct `leaf_index` extension, so the same tree
 * serves the RFC 6962 and the static-ct read API), persists, then signs a new tree head.
 * add-chain answers only after its entry is in a signed tree head, so a `log` entry made from the SCT verifies
 * immediately.
 */
export class LocalCtLog {
  readonly tree = new MerkleTree();
  readonly entries: LocalLogEntry[] = [];
  readonly logId: Uint8Array;
  readonly publicKeyDer: Uint8Array;
  private readonly leafIndexByHash = new Map<string, number>();
  private readonly issuersByFingerprint = new Map<string, Uint8Array>();
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private head: PublishedHead;
  private flushing: Promise<void> = Promise.resolve();
  private readonly clock: () => number;
  private readonly rootSet: CertificateSet;

  private constructor(private readonly privateKey: KeyObject, private readonly options: LocalCtLogOptions) {
    this.rootSet = new CertificateSet(options.roots);
    this.publicKeyDer = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
    this.logId = new Uint8Array(createHash('sha256').update(this.publicKeyDer).digest());
    this.clock = options.now ?? Date.now;
    this.head = this.signHead();
  }

  static async open(options: LocalCtLogOptions): Promise<LocalCtLog> {
    const store = options.store ?? null;
    let pem = store ? await store.loadKey() : null;
    if (!pem) {
      // PEM from the generation itself: exporting a freshly generated KeyObject can deadlock node 20 (a GC during the
      // export finalises the generation job, which takes the key's lock the export holds; docs/performance.md).
      pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
      if (store) await store.saveKey(pem);
    }
    const log = new LocalCtLog(createPrivateKey(pem), options);
    if (store) for (const e of await store.load()) log.append(e);
    log.head = log.signHead();
    return log;
  }

  get treeHead(): PublishedHead {
    return this.head;
  }

  get roots(): Uint8Array[] {
    return this.options.roots;
  }

  leafIndexOf(leafHash: Uint8Array): number | undefined {
    return this.leafIndexByHash.get(toBase64(leafHash));
  }

  issuer(fingerprintHex: string): Uint8Array | undefined {
    return this.issuersByFingerprint.get(fingerprintHex);
  }

  checkpoint(origin: string): string {
    const { signature, ...head } = this.head;
    return formatCheckpoint(origin, head, this.logId, signDigitallySigned(this.privateKey, treeHeadSignatureInput(head)));
  }

  private append(e: LocalLogEntry): void {
    const index = this.tree.appendLeafHash(leafHashOf(e.entry));
    this.entries.push(e);
    const key = toBase64(this.tree.leafHash(index));
    if (!this.leafIndexByHash.has(key)) this.leafIndexByHash.set(key, index);
    for (const c of e.chain) this.issuersByFingerprint.set(createHash('sha256').update(c).digest('hex'), c);
  }

  private signHead(): PublishedHead {
    const head: TreeHead = { treeSize: this.tree.size, timestamp: this.clock(), rootHash: this.tree.root() };
    return { ...head, signature: encodeDigitallySigned(signDigitallySigned(this.privateKey, treeHeadSignatureInput(head))) };
  }

  /**
   * Completes a chain to an accepted root and validates it (RFC 6962 §4.1: logs refuse chains that do not
   * validate), with the same rules the verifier applies to stored chains.
   */
  private async validateChain(chain: Uint8Array[]): Promise<Uint8Array[]> {
    if (chain.length === 0) throw ctError(CtErrorCodes.CT_SUBMISSION_REJECTED, 'empty chain');
    if (this.options.chainValidation !== 'signatures-only') {
      try {
        const { issuers } = validateCertificateChain({ leaf: chain[0]!, issuers: chain.slice(1), at: this.clock(), logRoots: this.rootSet });
        return [chain[0]!, ...issuers.map((c) => c.der)];
      } catch (err) {
        if (err instanceof EmblemError && err.code === CtErrorCodes.CT_CHAIN_INVALID) {
          throw ctError(CtErrorCodes.CT_SUBMISSION_REJECTED, `chain rejected: ${err.message}`);
        }
        throw err;
      }
    }
    const isRoot = (c: Uint8Array) => this.options.roots.some((r) => Buffer.from(r).equals(Buffer.from(c)));
    const full = [...chain];
    if (!isRoot(full[full.length - 1]!)) {
      const last = full[full.length - 1]!;
      let root: Uint8Array | undefined;
      for (const r of this.options.roots) if (await isSignedBy(last, r)) root = r;
      if (!root) throw ctError(CtErrorCodes.CT_SUBMISSION_REJECTED, 'chain does not end at an accepted root');
      full.push(root);
    }
    for (let i = 0; i + 1 < full.length; i++) {
      if (!(await isSignedBy(full[i]!, full[i + 1]!))) throw ctError(CtErrorCodes.CT_SUBMISSION_REJECTED, `certificate ${i} is not signed by certificate ${i + 1}`);
    }
    return full;
  }

  /** add-chain (x509 entry) or add-pre-chain (precert entry). Resolves once the entry is in a signed tree head. */
  async submit(chain: Uint8Array[], precertificate: boolean): Promise<SignedCertificateTimestamp> {
    const full = await this.validateChain(chain);
    const leaf = full[0]!;
    if (isPrecertificate(leaf) !== precertificate) {
      throw ctError(CtErrorCodes.CT_SUBMISSION_REJECTED, precertificate ? 'add-pre-chain needs a precertificate (poison extension)' : 'add-chain does not accept precertificates');
    }
    if (precertificate && full.length < 2) throw ctError(CtErrorCodes.CT_SUBMISSION_REJECTED, 'a precertificate needs its issuer');
    return new Promise<SignedCertificateTimestamp>((resolve, reject) => {
      this.pending.push({ chain: full, precertificate, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushing = this.flushing.then(() => this.sequence());
    }, this.options.batchMs ?? 100);
  }

  /**
   * Sequences every pending submission: assigns indices (carried in each SCT as leaf_index), persists, appends,
   * signs the new head, and only then answers the submitters. Indices are assigned here, not on arrival, so a
   * batch that cannot be saved is refused whole and leaves no gap in the tree.
   */
  private async sequence(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const timestamp = this.clock();
    const logged = batch.map((p, i): LocalLogEntry => {
      const [leaf, ...rest] = p.chain as [Uint8Array, ...Uint8Array[]];
      const extensions = leafIndexExtension(this.entries.length + i);
      const entry: TimestampedEntry = p.precertificate
        ? { timestamp, entryType: 'precert', issuerKeyHash: issuerKeyHash(rest[0]!), certificate: tbsWithoutExtension(tbsOf(leaf), PRECERT_POISON_OID), extensions }
        : { timestamp, entryType: 'x509', certificate: leaf, extensions };
      return { entry, chain: rest, ...(p.precertificate ? { preCertificate: leaf } : {}) };
    });
    try {
      await this.options.store?.save([...this.entries, ...logged]);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const e of logged) this.append(e);
    this.head = this.signHead();
    batch.forEach((p, i) => {
      const { entry } = logged[i]!;
      // RFC 6962 §3.2: the SCT signs sct_version, signature_type certificate_timestamp (0) and the entry.
      const ds = signDigitallySigned(this.privateKey, concatBytes(Uint8Array.of(0, 0), encodeTimestampedEntry(entry)));
      p.resolve({ version: 0, logId: this.logId, timestamp, extensions: entry.extensions, hashAlgorithm: ds.hashAlgorithm, signatureAlgorithm: ds.signatureAlgorithm, signature: ds.signature });
    });
  }

  /** Stops the batch timer, sequencing what is pending first. */
  async close(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.flushing = this.flushing.then(() => this.sequence());
    }
    await this.flushing;
  }
}
