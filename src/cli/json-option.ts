import type { Command } from 'commander';

/**
 * Every command takes --json. For commands whose output is JSON already (CT tools, servers' event lines, the
 * worker's log lines) the flag changes nothing, and the help says so rather than pretending otherwise.
 */
export function acceptJsonFlag(cmd: Command): Command {
  return cmd.option('--json', 'output is JSON already (JSON lines for long-running commands); accepted on every command');
}
