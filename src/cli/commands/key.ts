import type { Command } from 'commander';
import type { KeyFileFormat } from '../../store/key-file.js';
import { readPassphrase } from '../inputs.js';
import { UsageError } from '../exit.js';
import { addClockOption, clockOf, writingTo, type ClockFlag } from '../key-files.js';

/**
 * `emblem key encrypt|decrypt|passwd FILE`: change how a private key file is protected, in place. The new file is
 * written atomically (mode 0600) and the old one is kept as FILE.replaced-<UTC time>, never deleted; nothing is
 * written unless the key was read and checked first. Key material and passphrases are never printed.
 */

interface KeyFlags extends ClockFlag {
  passphraseFile?: string;
  json?: boolean;
}

const KEPT_NOTE = `
The new file is written atomically with mode 0600. The old file is kept as FILE.replaced-<UTC time>
(mode 0600), e.g. org-root.jwk.replaced-20261201T081906Z.`;

/** The key-file modules load when a key command runs, not at start-up (docs/performance.md, "CLI start-up"). */
async function keyModules() {
  const [keyFile, { loadSigningKey }, prompt] = await Promise.all([
    import('../../store/key-file.js'),
    import('../../core/tokens/sign.js'),
    import('../passphrase-prompt.js'),
  ]);
  return { ...keyFile, loadSigningKey, ...prompt };
}

export function registerKey(program: Command): void {
  const key = program
    .command('key')
    .description('change the protection of a private key file: encrypt, decrypt, passwd (the old file is always kept)');

  addClockOption(
    key
      .command('encrypt')
      .description('encrypt an unencrypted private key file in place (JWE, PBES2-HS512+A256KW / A256GCM)')
      .argument('<file>', 'the private key file (a JWK written by emblem keygen)')
      .option('--passphrase-file <file>', 'the new passphrase (default: $EMBLEM_PASSPHRASE; else asked twice on the terminal)')
      .option('--json', 'print the result as JSON')
      .addHelpText('after', `${KEPT_NOTE} It holds the key unencrypted: delete it once
you have checked the encrypted file (e.g. by signing with it).

Example:
  emblem key encrypt --passphrase-file pass.txt org-root.jwk`),
  ).action(async (file: string, opts: KeyFlags) => {
    const { readKeyFileText, writePrivateKeyFile } = await keyModules();
    const { text, format } = await readKeyFileText(file);
    expectFormat(file, format, 'jwk', 'it is already encrypted: use `emblem key passwd` to change its passphrase');
    const jwk = await checkedKey(file, text, format);
    const passphrase = (await readPassphrase(opts.passphraseFile)) ?? (await askNew(file, '--passphrase-file FILE or set EMBLEM_PASSPHRASE'));
    const written = await writingTo(file, () => writePrivateKeyFile(file, jwk.privateJwk, passphrase, { replace: true, now: clockOf(opts) }));
    report(opts, { file, kid: jwk.kid, encrypted: true, oldFile: written.keptAs }, written.keptAs
      ? `the old, unencrypted file is kept as ${written.keptAs}: delete it (e.g. shred -u) once you have checked ${file}`
      : undefined);
  });

  addClockOption(
    key
      .command('decrypt')
      .description('decrypt an encrypted private key file in place (needs --yes-write-plaintext: the key is then unprotected on disk)')
      .argument('<file>', 'the encrypted private key file')
      .option('--passphrase-file <file>', 'its passphrase (default: $EMBLEM_PASSPHRASE; else asked on the terminal)')
      .option('--yes-write-plaintext', 'confirm that the private key is to be written unencrypted (mode 0600)')
      .option('--json', 'print the result as JSON')
      .addHelpText('after', `${KEPT_NOTE} It stays encrypted.

Example:
  emblem key decrypt --yes-write-plaintext org-root.jwk`),
  ).action(async (file: string, opts: KeyFlags & { yesWritePlaintext?: boolean }) => {
    const { readKeyFileText, writePrivateKeyFile } = await keyModules();
    if (!opts.yesWritePlaintext) throw new UsageError('key decrypt writes the private key unencrypted: pass --yes-write-plaintext to confirm');
    const { text, format } = await readKeyFileText(file);
    expectFormat(file, format, 'jwe', 'it is not encrypted');
    const passphrase = (await readPassphrase(opts.passphraseFile)) ?? (await askExisting(file, '--passphrase-file FILE or set EMBLEM_PASSPHRASE'));
    const jwk = await checkedKey(file, text, format, passphrase);
    const written = await writingTo(file, () => writePrivateKeyFile(file, jwk.privateJwk, undefined, { replace: true, now: clockOf(opts) }));
    report(opts, { file, kid: jwk.kid, encrypted: false, oldFile: written.keptAs }, `${file} is now unencrypted`);
  });

  addClockOption(
    key
      .command('passwd')
      .description('change the passphrase of an encrypted private key file in place')
      .argument('<file>', 'the encrypted private key file')
      .option('--passphrase-file <file>', 'the current passphrase (default: $EMBLEM_PASSPHRASE; else asked on the terminal)')
      .option('--new-passphrase-file <file>', 'the new passphrase (default: $EMBLEM_NEW_PASSPHRASE; else asked twice on the terminal)')
      .option('--json', 'print the result as JSON')
      .addHelpText('after', `${KEPT_NOTE} It still opens with the old passphrase:
delete it if that passphrase is no longer safe.

Example:
  emblem key passwd --passphrase-file old.txt --new-passphrase-file new.txt org-root.jwk`),
  ).action(async (file: string, opts: KeyFlags & { newPassphraseFile?: string }) => {
    const { readKeyFileText, writePrivateKeyFile, canPrompt, promptNewPassphrase } = await keyModules();
    const { text, format } = await readKeyFileText(file);
    expectFormat(file, format, 'jwe', 'it is not encrypted: use `emblem key encrypt`');
    // Every passphrase that cannot be asked for must be at hand before the slow decryption starts.
    const oldPassphrase = await readPassphrase(opts.passphraseFile);
    let newPassphrase = await readPassphrase(opts.newPassphraseFile, 'EMBLEM_NEW_PASSPHRASE');
    if (newPassphrase === undefined && !canPrompt()) {
      throw new UsageError('key passwd needs the new passphrase: pass --new-passphrase-file FILE or set EMBLEM_NEW_PASSPHRASE (or run it on a terminal to be asked)');
    }
    const jwk = await checkedKey(file, text, format, oldPassphrase ?? (await askExisting(file, '--passphrase-file FILE or set EMBLEM_PASSPHRASE')));
    newPassphrase ??= await promptNewPassphrase(file);
    const written = await writingTo(file, () => writePrivateKeyFile(file, jwk.privateJwk, newPassphrase, { replace: true, now: clockOf(opts) }));
    report(opts, { file, kid: jwk.kid, encrypted: true, oldFile: written.keptAs }, written.keptAs
      ? `the old file (old passphrase) is kept as ${written.keptAs}: delete it if the old passphrase is no longer safe`
      : undefined);
  });
}

function expectFormat(file: string, format: KeyFileFormat, expected: KeyFileFormat, otherwise: string): void {
  if (format !== expected) throw new UsageError(`${file}: ${otherwise}`);
}

/** The key in the file, loaded as a signing key: only a usable private key is re-written. */
async function checkedKey(file: string, text: string, format: KeyFileFormat, passphrase?: string): Promise<{ privateJwk: JsonWebKey; kid: string }> {
  const { parsePrivateKeyText, loadSigningKey } = await keyModules();
  const privateJwk = await parsePrivateKeyText(file, text, format, passphrase);
  try {
    return { privateJwk, kid: (await loadSigningKey(privateJwk)).publicKey.jwsKid };
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`, 'KEY_INVALID');
  }
}

async function askNew(file: string, sources: string): Promise<string> {
  const { canPrompt, promptNewPassphrase } = await keyModules();
  if (!canPrompt()) throw new UsageError(`a passphrase is needed: pass ${sources} (or run it on a terminal to be asked)`);
  return promptNewPassphrase(file);
}

async function askExisting(file: string, sources: string): Promise<string> {
  const { canPrompt, promptExistingPassphrase } = await keyModules();
  if (!canPrompt()) throw new UsageError(`${file} is encrypted: pass ${sources} (or run it on a terminal to be asked)`);
  return promptExistingPassphrase(file);
}

function report(opts: KeyFlags, result: { file: string; kid: string; encrypted: boolean; oldFile?: string }, note?: string): void {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(`${result.file}: ${result.encrypted ? 'encrypted' : 'unencrypted'} private key, kid ${result.kid}${result.oldFile ? `; old file kept as ${result.oldFile}` : ''}\n`);
  }
  if (note) process.stderr.write(`emblem: ${note}\n`);
}
