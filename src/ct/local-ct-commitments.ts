import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PublicKey } from '../core/tokens/keys.js';
import type { CommitmentChecker, LogPointer } from '../core/verify/commitment.js';
import { fromBase64 } from './bytes.js';
import { CtCommitmentChecker } from './commitment-checker.js';
import { createLocalCa, issueLoggedCertificate, type LoggedCertificate } from './local-ca.js';
import { startLocalCtLog } from './local-log/start-local-ct-log.js';
import { loadLogLists } from './log-list-source.js';

/** One root key to commit: its name (as the caller refers to it), its organisation's host, the key. */
export interface RootToCommit {
  name: string;
  host: string;
  key: PublicKey;
}

/** Same shape as the demo's `DemoCommitments`, so `prepareCommitments` can return this unchanged. */
export interface LocalCtCommitments {
  logFor(name: string, era: 'jws' | 'cwt'): LogPointer[];
  checker: CommitmentChecker;
  explanation: string;
  /** Where the log serves its v3 list while running. */
  logListUrl: string;
  close(): Promise<void>;
}

/**
 * Commits root keys the way a real organisation does, on loopback: a local CA issues each root a binding
 * certificate (names `<host>`, `adem-configuration.<host>` and `<kid>.adem-configuration.<host>` for both eras'
 * kids), logs it in a local CT log through the precertificate flow, and the `log` entries point at it (an RFC 6962
 * leaf hash and a static-ct index, both verified). The checker verifies against the log's own list, for real.
 * Writes `ca.pem`, `<name>.chain.pem` and the log state (`ct-log/`) into `dir`.
 */
export async function prepareLocalCtCommitments(dir: string, roots: RootToCommit[]): Promise<LocalCtCommitments> {
  const ca = await createLocalCa({ name: 'Emblem Demo CA' });
  await writeFile(join(dir, 'ca.pem'), ca.pem);
  const log = await startLocalCtLog({ roots: [ca.certificate], dir: join(dir, 'ct-log'), batchMs: 20, description: 'Emblem demo CT log' });
  try {
    const logged = new Map<string, LoggedCertificate>();
    for (const root of roots) {
      const dnsNames = [
        root.host,
        `adem-configuration.${root.host}`,
        `${root.key.jwsKid}.adem-configuration.${root.host}`,
        `${root.key.coseKidText}.adem-configuration.${root.host}`,
      ];
      const cert = await issueLoggedCertificate(ca, log.url, { dnsNames, publicKey: root.key.jwk as JsonWebKey });
      await writeFile(join(dir, `${root.name}.chain.pem`), cert.chainPem);
      logged.set(root.name, cert);
    }
    return {
      logFor(name, era) {
        const cert = logged.get(name);
        if (!cert || cert.v1.ver !== 'v1' || cert.static.ver !== 'static') throw new Error(`no binding certificate for ${name}`);
        const id = fromBase64(cert.v1.id)!;
        const hash = fromBase64(cert.v1.hash)!;
        // CWT-era entries carry no `ver`: a hash means an RFC 6962 log, an index a tiled log.
        return era === 'jws'
          ? [{ ver: 'v1', id, hash }, { ver: 'static', id, index: cert.static.index }]
          : [{ id, hash }, { id, index: cert.static.index }];
      },
      // The demo CA is the trust store: the chains the log stores must lead to it (as `--ca-bundle ca.pem` does).
      checker: new CtCommitmentChecker({ logDirectory: () => loadLogLists([log.logListUrl]), trustStore: [ca.certificate] }),
      logListUrl: log.logListUrl,
      explanation:
        `Root keys of ${roots.map((r) => r.host).join(' and ')} are committed by certificates from a local CA, logged in a ` +
        `local CT log (${log.url}); each root endorsement points at its entry twice (RFC 6962 leaf hash and static-ct index), ` +
        'and both were verified: signed tree head, audit path / tiles, re-hashed entry, certificate chain, certificate names.',
      close: () => log.close(),
    };
  } catch (err) {
    await log.close();
    throw err;
  }
}
