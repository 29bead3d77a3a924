import type { Command } from 'commander';

// What `emblem org` and `emblem authority` share: both act on one folder, as of --at, with a passphrase-protected
// root key. Only commander's types at start-up; parseTime is loaded when an action runs.

/** A repeatable option's values, in the order given. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The options every subcommand of a folder command takes. */
export interface FolderOptions {
  dir: string;
  at?: string;
  json?: boolean;
  passphraseFile?: string;
}

/** Adds --dir, --at, --passphrase-file and --json; `describe` words the help for this kind of folder. */
export function addFolderOptions(cmd: Command, describe: { dir: string; passphrase: string }): Command {
  return cmd
    .requiredOption('--dir <folder>', describe.dir)
    .option('--at <time>', 'act as of this ISO-8601 time instead of now (tests, dry runs)')
    .option('--passphrase-file <file>', describe.passphrase)
    .option('--json', 'print JSON');
}

/** --at, or now, in whole seconds since the epoch. */
export async function nowOf(opts: Pick<FolderOptions, 'at'>): Promise<number> {
  const { parseTime } = await import('./duration.js');
  return Math.floor((opts.at ? parseTime(opts.at, '--at') : new Date()).getTime() / 1000);
}

/** The PKCS#11 flags of `org init` and `authority init`. */
export interface InitPkcs11Flags {
  pkcs11Module?: string;
  pkcs11Token?: string;
  pkcs11Label?: string;
  pkcs11PinFile?: string;
}

/** Where init generates the root key: in the token named by the flags (its PIN read now), or undefined for a file. */
export async function initPkcs11FromFlags(opts: InitPkcs11Flags): Promise<import('../org/init.js').InitPkcs11 | undefined> {
  if (!opts.pkcs11Module || !opts.pkcs11Token) return undefined;
  const { pkcs11PinFrom } = await import('../keys/pkcs11.js');
  const pin = await pkcs11PinFrom(opts.pkcs11PinFile ? { pinFile: opts.pkcs11PinFile } : {});
  return { module: opts.pkcs11Module, token: opts.pkcs11Token, label: opts.pkcs11Label, pin, pinFile: opts.pkcs11PinFile };
}
