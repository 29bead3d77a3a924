// Prints the --help output of every emblem command and subcommand (found by walking the "Commands:" sections),
// with each one's exit code and standard error, so two builds of the CLI can be compared byte for byte:
//   node scripts/cli-help-snapshot.mjs > before.txt; (change, npm run build); node scripts/cli-help-snapshot.mjs > after.txt
// Options: --cli PATH (default dist/cli/main.js). The environment is passed on (e.g. EMBLEM_NO_CLI_BUNDLE=1).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cliArg = process.argv.indexOf('--cli');
const cli = cliArg > 0 ? process.argv[cliArg + 1] : fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
/** Two at a time: the machine has two cores. Bounded depth: the command tree is three levels deep at most. */
const PARALLEL = 2;
const MAX_DEPTH = 4;

function help(path) {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...path, '--help'], { env: { ...process.env, COLUMNS: '80' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ path, code: err ? (err.code ?? -1) : 0, stdout, stderr });
    });
  });
}

function subcommands(text) {
  const start = text.indexOf('\nCommands:\n');
  if (start < 0) return [];
  const names = [];
  for (const line of text.slice(start + '\nCommands:\n'.length).split('\n')) {
    if (line.trim() === '') break;
    const m = /^ {2}(\S+)/.exec(line);
    if (m && m[1] !== 'help') names.push(m[1].split('|')[0]);
  }
  return names;
}

const results = [];
let queue = [[]];
while (queue.length > 0) {
  const next = [];
  for (let i = 0; i < queue.length; i += PARALLEL) {
    for (const r of await Promise.all(queue.slice(i, i + PARALLEL).map(help))) {
      results.push(r);
      if (r.path.length < MAX_DEPTH) for (const name of subcommands(r.stdout)) next.push([...r.path, name]);
    }
  }
  queue = next;
}
results.sort((a, b) => a.path.join(' ').localeCompare(b.path.join(' ')));
for (const r of results) {
  process.stdout.write(`==== emblem ${[...r.path, '--help'].join(' ')} (exit ${r.code})\n${r.stdout}`);
  if (r.stderr) process.stdout.write(`---- stderr\n${r.stderr}`);
}
process.stderr.write(`${results.length} help texts\n`);
