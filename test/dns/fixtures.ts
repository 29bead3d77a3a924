import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_SIGNED_AT, runCli, SHARED } from '../helpers/cli.js';

export const INTEROP_DNS = join(SHARED, 'interop', 'dns');
/** Inside the validity window of all three live sets (interop/README.md). */
export const INTEROP_AT = '2026-06-17T00:10:00Z';
/** The AAAA behind emblem.felixlinker.de's address asset. */
export const FELIX_ADDRESS = '2a01:4f9:c010:d8e4::1';

export async function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args, { input, timeoutMs: 60_000 });
}

/**
 * The three live deployments in one root zone, each at the name it is published under today, plus the
 * British Red Cross set at adem.redcross.org.uk (the asset its emblem names) and the AAAA that
 * emblem.felixlinker.de's "[2a01:...]" asset refers to.
 */
export async function writeInteropZone(dir: string): Promise<string> {
  const res = await cli([
    'dns', 'zone', '--origin', '.', '--serial', '2026112301',
    '--add', `cyberstar.online=${join(INTEROP_DNS, 'cyberstar.online.txt')}`,
    '--add', `emblem.felixlinker.de=${join(INTEROP_DNS, 'emblem.felixlinker.de.txt')}`,
    '--add', `emblem.redcross.org.uk=${join(INTEROP_DNS, 'emblem.redcross.org.uk.txt')}`,
    '--add', `adem.redcross.org.uk=${join(INTEROP_DNS, 'emblem.redcross.org.uk.txt')}`,
    '--address', `emblem.felixlinker.de=${FELIX_ADDRESS}`,
    '--address', 'empty.example=192.0.2.1',
  ]);
  if (res.code !== 0) throw new Error(`dns zone failed: ${res.stderr}`);
  const path = join(dir, 'interop.zone');
  writeFileSync(path, res.stdout);
  return path;
}

export interface CwtChain {
  rootKey: string;
  rootPub: string;
  emblemKey: string;
  emblemPub: string;
  endorsement: string;
  emblem: string;
}

/** A fake but well-formed CT pointer: commitment checks are skipped in these tests and reported as skipped. */
export const FAKE_LOG = '[{"ver":"v1","id":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","hash":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="}]';

/** A CWT-era chain made by the CLI: root key endorses the emblem key, which signs an emblem for `asset`. */
export async function signCwtChain(dir: string, asset: string, options: { lifetime?: string; notBefore?: string; prefix?: string } = {}): Promise<CwtChain> {
  const p = (n: string) => join(dir, `${options.prefix ?? ''}${n}`);
  const env = { EMBLEM_PASSPHRASE: undefined }; // unencrypted keys, whatever the caller's environment says
  const run = async (args: string[], out?: string) => {
    const res = await runCli(args, { env, timeoutMs: 60_000 });
    if (res.code !== 0) throw new Error(`emblem ${args.join(' ')} failed: ${res.stderr}`);
    if (out) writeFileSync(out, res.stdout);
  };
  await run(['keygen', '--alg', 'ES256', '--out', p('root.jwk'), '--public-out', p('root.pub.jwk')]);
  await run(['keygen', '--alg', 'ES256', '--out', p('emblem.jwk'), '--public-out', p('emblem.pub.jwk')]);
  const timing = ['--at', CLI_SIGNED_AT, ...(options.lifetime ? ['--lifetime', options.lifetime] : []), ...(options.notBefore ? ['--not-before', options.notBefore] : [])];
  await run(
    ['sign', 'endorsement', '--era', 'cwt', '--key', p('root.jwk'), '--endorse', p('emblem.pub.jwk'), '--iss', 'https://example.org', '--sub', 'https://example.org', '--log', FAKE_LOG, ...timing],
    p('endorsement.hex'),
  );
  await run(['sign', 'emblem', '--era', 'cwt', '--key', p('emblem.jwk'), '--asset', asset, '--iss', 'https://example.org', ...timing], p('emblem.hex'));
  return {
    rootKey: p('root.jwk'),
    rootPub: p('root.pub.jwk'),
    emblemKey: p('emblem.jwk'),
    emblemPub: p('emblem.pub.jwk'),
    endorsement: p('endorsement.hex'),
    emblem: p('emblem.hex'),
  };
}

/** The fields of a verification report that must agree between `emblem verify` and `emblem check`. */
export function comparable(report: Record<string, unknown>): Record<string, unknown> {
  const errors = (report.errors as Array<{ code: string }>).map((e) => e.code).sort();
  const emblem = report.emblem as Record<string, unknown> | null;
  return {
    era: report.era,
    result: report.result,
    levels: report.levels,
    protected: report.protected,
    issuer: report.issuer,
    endorsedBy: report.endorsedBy,
    commitment: report.commitment,
    errors,
    emblem,
    verifiedAt: report.verifiedAt,
  };
}
