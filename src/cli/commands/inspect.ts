import { Command } from 'commander';
import { ExitCode } from '../exit.js';

interface InspectFlags {
  json?: boolean;
  at?: string;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('decode tokens and keys for reading: header, kid, every claim, validity relative to --at/now, constraints, log entries (no verification verdict)')
    .argument('<file>', 'token set file (as for emblem verify: JWS lines, TXT presentation, CWT hex, JWKs) or - for stdin')
    .option('--at <time>', 'describe validity as of this ISO-8601 time instead of now')
    .option('--json', 'print {"items": [...]} (each item keeps the original token, so the output round-trips)')
    .addHelpText('after', '\nNothing is verified: signatures, chains and CT commitments are for emblem verify / emblem check.\n\nExample:\n  emblem inspect ../shared/interop/dns/emblem.redcross.org.uk.txt')
    .action(async (file: string, opts: InspectFlags) => {
      const { inspectText, formatInspection } = await import('../inspect.js');
      const { readStdin, readTextFile } = await import('../inputs.js');
      const { parseTime } = await import('../duration.js');
      const text = file === '-' ? await readStdin() : await readTextFile(file);
      const now = opts.at ? parseTime(opts.at, '--at') : new Date();
      const result = inspectText(text, file === '-' ? 'stdin' : file, Math.floor(now.getTime() / 1000));
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatInspection(result));
      process.exitCode = result.items.length === 0 ? ExitCode.USAGE : ExitCode.OK;
    });
}
