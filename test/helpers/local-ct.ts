import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindingNames, createLocalCa, issueLoggedCertificate, type LocalCa } from '../../src/ct/local-ca.js';
import { startLocalCtLog, type RunningLocalCtLog } from '../../src/ct/local-log/start-local-ct-log.js';
import type { CliResult } from './cli.js';

/**
 * What the org and authority tests bind root keys with instead of ACME and the public logs: a local CA, a local
 * CT log that accepts its chains, and a temp dir (the test's working folder) holding the CA as ca.pem.
 */
export interface LocalCt {
  /** The test's temp dir; removed by close(). */
  dir: string;
  ca: LocalCa;
  ctLog: RunningLocalCtLog;
  /** ca.pem in `dir`: --ca-bundle for binding chains that end at the local CA. */
  caBundle: string;
  close(): Promise<void>;
}

export async function startLocalCt(prefix: string): Promise<LocalCt> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    const ca = await createLocalCa();
    const ctLog = await startLocalCtLog({ roots: [ca.certificate] });
    const caBundle = join(dir, 'ca.pem');
    writeFileSync(caBundle, ca.pem);
    return {
      dir,
      ca,
      ctLog,
      caBundle,
      async close() {
        await ctLog.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * `emblem org|authority set-binding` with a binding certificate from the local CA, logged in the local CT log:
 * for the root key `{ host, kid }` (its three binding names) or for the names given (init's bindingNames). The
 * chain and the log entry are written as chain.pem and log.json in the folder; set-binding must succeed.
 */
export async function setLocalBinding(
  ct: LocalCt,
  cli: (args: string[]) => Promise<CliResult>,
  kind: 'org' | 'authority',
  dir: string,
  names: { host: string; kid: string } | string[],
): Promise<void> {
  const dnsNames = Array.isArray(names) ? names : bindingNames(names.host, names.kid);
  const logged = await issueLoggedCertificate(ct.ca, ct.ctLog.url, { dnsNames });
  writeFileSync(join(dir, 'chain.pem'), logged.chainPem);
  writeFileSync(join(dir, 'log.json'), JSON.stringify([logged.v1]));
  const r = await cli([kind, 'set-binding', '--dir', dir, '--chain', join(dir, 'chain.pem'), '--log', join(dir, 'log.json')]);
  assert.equal(r.code, 0, r.stderr);
}
