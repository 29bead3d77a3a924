import { Command, CommanderError } from 'commander';
import { commandsFor } from './commands/index.js';
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

// Only the command being run is loaded and registered (all of them for --help and the like): see commandsFor.
for (const register of await commandsFor(process.argv)) register(program);

// Commander's own help command looks only one level down (`help sign emblem` showed the help of `sign`): this one
// follows the whole path.
program.helpCommand(false);
program
  .command('help')
  .argument('[command...]', 'a command, with its subcommand if any (e.g. sign emblem)')
  .description('display help for a command')
  .action((path: string[]) => {
    let cmd: Command = program;
    for (const name of path) {
      const sub = cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
      if (!sub) throw new UsageError(`help: no command ${JSON.stringify([...path.slice(0, path.indexOf(name)), name].join(' '))}; see emblem --help`);
      cmd = sub;
    }
    cmd.help();
  });

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
