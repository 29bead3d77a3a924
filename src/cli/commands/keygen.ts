import { Command, Option } from 'commander';
import type { SignatureAlgorithm } from '../../core/tokens/algorithms.js';
import { readPassphrase } from '../inputs.js';
import { UsageError } from '../exit.js';
import { addClockOption, assertDistinctFiles, assertFilesAbsent, assertReplaceable, clockOf, writingTo, type ClockFlag } from '../key-files.js';

interface KeygenFlags extends ClockFlag {
  alg: SignatureAlgorithm;
  out: string;
  publicOut?: string;
  passphraseFile?: string;
  encrypt?: boolean;
  force?: boolean;
}

export function registerKeygen(program: Command): void {
  const cmd = program
    .command('keygen')
    .description('create a signing key: writes the private JWK (mode 0600, encrypted when a passphrase is set) and prints the public JWK with its kids')
    .addOption(new Option('--alg <alg>', 'signature algorithm').choices(['ES512', 'ES384', 'ES256', 'EdDSA']).default('ES512'))
    .requiredOption('--out <file>', 'where to write the private key (refused if the file exists, unless --force)')
    .option('--public-out <file>', 'also write the public JWK here (to publish, or to pass to --endorse / --trusted-key); must differ from --out')
    .option('--passphrase-file <file>', 'encrypt the private key with the passphrase in this file (default: $EMBLEM_PASSPHRASE if set); an empty one is refused')
    .option('--encrypt', 'never write the key unencrypted: without --passphrase-file or $EMBLEM_PASSPHRASE, ask twice on the terminal (fails when not run on one)')
    .option('--force', 'replace existing --out / --public-out files; each old file is kept as NAME.replaced-<UTC time> (mode 0600), never deleted')
    .option('--json', 'print JSON (the default output is JSON too; accepted for symmetry)')
    .addHelpText(
      'after',
      `
An existing --out or --public-out file is never overwritten: keygen fails (exit 2) and changes nothing. Use another
name, or --force, which keeps each old file beside the new one as NAME.replaced-<UTC time>, e.g.
org-root.jwk.replaced-20261201T081906Z (mode 0600). Delete those yourself once you are sure they are not needed.

Encryption: with --passphrase-file FILE or $EMBLEM_PASSPHRASE the key is written as a JWE (PBES2-HS512+A256KW,
A256GCM); an empty or whitespace-only passphrase is refused. Without either the key is written unencrypted (with a
warning), unless --encrypt is given: then keygen asks for the passphrase twice, without echo, when standard input is
a terminal, and fails otherwise. \`emblem key encrypt|decrypt|passwd\` change an existing key file's protection.

Examples:
  emblem keygen --alg ES512 --out org-root.jwk --public-out org-root.pub.jwk
  emblem keygen --encrypt --out org-root.jwk --public-out org-root.pub.jwk        # asks for a passphrase
  emblem keygen --force --out emblem.jwk --public-out emblem.pub.jwk             # keeps the old emblem.jwk`,
    );
  addClockOption(cmd).action(async (opts: KeygenFlags) => {
    const now = clockOf(opts);
    // The action's modules load here, not at start-up (docs/performance.md, "CLI start-up").
    const [{ generateSigningKey }, { writePrivateKeyFile }, { writeFileKeepingOld }, { canPrompt, promptNewPassphrase }] = await Promise.all([
      import('../../core/tokens/sign.js'),
      import('../../store/key-file.js'),
      import('../../store/replace-file.js'),
      import('../passphrase-prompt.js'),
    ]);
    const targets = opts.publicOut ? [opts.out, opts.publicOut] : [opts.out];
    if (opts.publicOut) await assertDistinctFiles(opts.out, opts.publicOut, '--out', '--public-out', 'the public key would take the private key\'s place');
    // Checked before anything is written, so a refused run leaves no half-made pair behind; the writes below are
    // exclusive as well, so a file appearing meanwhile is still not overwritten.
    if (opts.force) await assertReplaceable(targets);
    else await assertFilesAbsent(targets);

    let passphrase = await readPassphrase(opts.passphraseFile);
    if (passphrase === undefined && opts.encrypt) {
      if (!canPrompt()) throw new UsageError('--encrypt needs a passphrase: pass --passphrase-file FILE or set EMBLEM_PASSPHRASE (or run keygen on a terminal to be asked)');
      passphrase = await promptNewPassphrase(opts.out);
    }

    const { privateJwk, key } = await generateSigningKey(opts.alg);
    const written = await writingTo(opts.out, () => writePrivateKeyFile(opts.out, privateJwk, passphrase, { replace: opts.force, now }));
    if (!written.encrypted) process.stderr.write(`emblem: ${opts.out} is not encrypted; set EMBLEM_PASSPHRASE or --passphrase-file to encrypt keys at rest\n`);
    const pub = opts.publicOut
      ? await writingTo(opts.publicOut, () => writeFileKeepingOld(opts.publicOut!, `${JSON.stringify(key.publicKey.jwk)}\n`, { mode: 0o644, replace: opts.force, now }))
      : {};
    for (const kept of [written.keptAs, pub.keptAs]) if (kept) process.stderr.write(`emblem: the old file is kept as ${kept}\n`);
    process.stdout.write(`${JSON.stringify({
      kid: key.publicKey.jwsKid,
      cwtKid: key.publicKey.coseKidText,
      jwk: key.publicKey.jwk,
      privateKeyFile: opts.out,
      encrypted: written.encrypted,
      ...(opts.publicOut ? { publicKeyFile: opts.publicOut } : {}),
      ...(written.keptAs ? { oldPrivateKeyFile: written.keptAs } : {}),
      ...(pub.keptAs ? { oldPublicKeyFile: pub.keptAs } : {}),
    })}\n`);
  });
}
