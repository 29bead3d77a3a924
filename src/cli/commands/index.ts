import type { Command } from 'commander';

/** Each command lives in its own file and registers itself here. */
export type RegisterCommand = (program: Command) => void;

/**
 * The commands in the order `emblem --help` lists them: each one's name and a loader of its registration. A command
 * file is loaded only when it is registered, and the CLI registers only the command it runs (all of them for --help,
 * `help`, an unknown name, or with EMBLEM_NO_LAZY_COMMANDS=1): see src/cli/program.ts and docs/performance.md.
 * The name must be the one the file registers (test/cli/start-up.test.ts checks it).
 */
export const COMMANDS: ReadonlyArray<{ readonly name: string; readonly load: () => Promise<RegisterCommand> }> = [
  { name: 'keygen', load: async () => (await import('./keygen.js')).registerKeygen },
  { name: 'key', load: async () => (await import('./key.js')).registerKey },
  { name: 'kid', load: async () => (await import('./kid.js')).registerKid },
  { name: 'sign', load: async () => (await import('./sign.js')).registerSign },
  { name: 'verify', load: async () => (await import('./verify.js')).registerVerify },
  { name: 'dns', load: async () => (await import('./dns.js')).registerDns },
  { name: 'check', load: async () => (await import('./check.js')).registerCheck },
  { name: 'ct', load: async () => (await import('./ct.js')).registerCt },
  { name: 'scan', load: async () => (await import('./scan.js')).registerScan },
  { name: 'worker', load: async () => (await import('./worker.js')).registerWorker },
  { name: 'org', load: async () => (await import('./org.js')).registerOrg },
  { name: 'inspect', load: async () => (await import('./inspect.js')).registerInspect },
  { name: 'authority', load: async () => (await import('./authority.js')).registerAuthority },
  { name: 'trust', load: async () => (await import('./trust.js')).registerTrust },
  { name: 'serve', load: async () => (await import('./serve.js')).registerServe },
  { name: 'observe', load: async () => (await import('./observe.js')).registerObserve },
  { name: 'evidence', load: async () => (await import('./evidence.js')).registerEvidence },
];

/**
 * The registrations of the commands `argv` (process.argv) may run: only the named command when the first argument
 * names one exactly, else every command in order (--help, --version, `help`, an unknown name: their output lists or
 * suggests all of them). EMBLEM_NO_LAZY_COMMANDS=1 always registers every command.
 */
export async function commandsFor(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RegisterCommand[]> {
  const first = argv[2];
  const only = env.EMBLEM_NO_LAZY_COMMANDS === '1' ? undefined : COMMANDS.find((c) => c.name === first);
  return Promise.all((only ? [only] : COMMANDS).map((c) => c.load()));
}

/** Every command's registration, in order. */
export function allCommands(): Promise<RegisterCommand[]> {
  return commandsFor([], { EMBLEM_NO_LAZY_COMMANDS: '1' });
}
