import { Command } from 'commander';
import { ExitCode, UsageError } from '../exit.js';

interface InspectFlags {
  json?: boolean;
  at?: string;
  name?: string;
  resolver?: string;
  ihleType: string;
  timeout: string;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('decode tokens and keys for reading: header, kid, every claim, validity relative to --at/now, constraints, log entries (no verification verdict)')
    .argument('[file]', 'token set file (as for emblem verify: JWS lines, TXT presentation, CWT hex, JWKs) or - for stdin')
    .option('--name <name>', 'read the emblem records published at this name from the DNS (TXT and IHLE) instead of a file')
    .option('--resolver <ip[:port]|system>', 'with --name: recursive resolver or authoritative server to ask (default: system)')
    .option('--ihle-type <code>', 'with --name: RR type code of IHLE', '65400')
    .option('--timeout <ms>', 'with --name: timeout per query attempt', '3000')
    .option('--at <time>', 'describe validity as of this ISO-8601 time instead of now')
    .option('--json', 'print {"items": [...]} (each item keeps the original token, so the output round-trips)')
    .addHelpText(
      'after',
      '\nNothing is verified: signatures, chains and CT commitments are for emblem verify / emblem check.\n\nExamples:\n  emblem inspect ../shared/interop/dns/emblem.redcross.org.uk.txt\n  dig +short TXT emblem.example | emblem inspect -\n  emblem inspect --name emblem.felixlinker.de --resolver 127.0.0.1:5353 --json',
    )
    .action(async (file: string | undefined, opts: InspectFlags) => {
      if ((file === undefined) === (opts.name === undefined)) throw new UsageError('give a FILE, - for standard input, or --name NAME (exactly one)');
      if (opts.name === undefined && (opts.resolver !== undefined)) throw new UsageError('--resolver goes with --name');
      const { inspectText, inspectMaterial, formatInspection } = await import('../inspect.js');
      const { parseTime } = await import('../duration.js');
      const now = Math.floor((opts.at ? parseTime(opts.at, '--at') : new Date()).getTime() / 1000);
      let result;
      if (opts.name !== undefined) {
        const { normalizeUserName } = await import('../../dns/domain-name.js');
        const { parseResolverSpec, describeResolver } = await import('../../dns/resolver.js');
        const { discoverEmblemRecords } = await import('../../dns/discovery.js');
        const { decodeEmblemRecords } = await import('../../dns/token-sets.js');
        const { parseIhleTypeCode } = await import('../../dns/rr-type.js');
        let name;
        try {
          name = normalizeUserName(opts.name);
        } catch (err) {
          throw new UsageError(`--name: ${(err as Error).message}`);
        }
        const timeoutMs = Number(opts.timeout);
        if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) throw new UsageError('--timeout must be 1..60000 ms');
        const resolver = parseResolverSpec(opts.resolver, undefined);
        const ihleType = parseIhleTypeCode(opts.ihleType);
        const found = await discoverEmblemRecords(name, { resolver, era: 'any', ihleType, timeoutMs, attempts: 2 });
        const source = `dns:${name} via ${describeResolver(resolver)}`;
        const decoded = decodeEmblemRecords(found.txtValues, found.ihleRdatas, source);
        result = inspectMaterial(decoded.sets.flatMap((s) => s.material), decoded.errors, source, now);
      } else {
        const { readStdin, readTextFile } = await import('../inputs.js');
        const text = file === '-' ? await readStdin() : await readTextFile(file!);
        result = inspectText(text, file === '-' ? 'stdin' : file!, now);
      }
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatInspection(result));
      process.exitCode = result.items.length === 0 ? (opts.name !== undefined ? ExitCode.NOT_VALID : ExitCode.USAGE) : ExitCode.OK;
    });
}
