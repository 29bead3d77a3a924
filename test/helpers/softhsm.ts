import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { thirdPartyEnv } from './third-party.js';

/** Debian's SoftHSM2 (package softhsm2): the PKCS#11 module the key-store tests use as a token. */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const HAVE_SOFTHSM = existsSync(SOFTHSM_MODULE) && existsSync('/usr/bin/softhsm2-util');

/**
 * A SoftHSM2 configuration whose tokens live in `dir`/tokens, with one token initialised (`label`, user `pin`).
 * Returns the path of softhsm2.conf: SoftHSM reads SOFTHSM2_CONF at C_Initialize, so every process that opens the
 * token (the CLI children, and this one for checks) needs it in its environment.
 */
export function initSoftHsmToken(dir: string, label: string, pin: string): string {
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '5678'], {
    env: thirdPartyEnv({ SOFTHSM2_CONF: conf }),
    stdio: 'pipe',
    timeout: 20_000,
  });
  return conf;
}
