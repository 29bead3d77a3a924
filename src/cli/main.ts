#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { allCommands } from './commands/index.js';
import { ExitCode, UsageError } from './exit.js';
import { EmblemError } from '../core/errors.js';
import { installNodeSignatureVerifier } from '../crypto/node-signature-verifier.js';

installNodeSignatureVerifier();

const program = new Command();
program
  .name('emblem')
  .description('Issue, publish, discover and verify ADEM digital emblems (JWS and CWT eras).')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const register of allCommands()) register(program);

program.addHelpText(
  'after',
  `
Exit codes:
  0  success; for verify/check: the result is neither INVALID nor UNSIGNED
  1  verification ran and the result is INVALID or UNSIGNED (check: no valid emblem)
  2  bad usage or unreadable input (one-line error on stderr)`,
);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version exit through here with code 0.
    process.exitCode = err.exitCode === 0 ? 0 : ExitCode.USAGE;
  } else if (err instanceof UsageError || err instanceof EmblemError) {
    process.stderr.write(`emblem: ${err.message} [${err.code}]\n`);
    process.exitCode = ExitCode.USAGE;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`emblem: ${message}\n`);
    if (process.env.EMBLEM_DEBUG) console.error(err);
    process.exitCode = ExitCode.USAGE;
  }
}
