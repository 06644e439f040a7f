/**
 * The command-line program. Parsing and printing only: every command calls
 * the manager. Used as `ae-state <command>` and as
 * `ae-framework enhanced-state <command>`.
 */
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';
import { EXIT_USAGE } from './exit-codes.js';

export function buildProgram(name: string): Command {
  const program = new Command(name)
    .description('A content-addressed, versioned store for specification state (AE-IR) in <root>/.ae/')
    .option('--root <dir>', 'project root that holds the .ae/ store', process.cwd())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  for (const register of COMMANDS) register(program);
  program.commands.forEach((command) => command.exitOverride());
  return program;
}

export async function main(argv: string[], name = 'ae-state'): Promise<void> {
  const program = buildProgram(name);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every parsing mistake is a usage error.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    throw error;
  }
}
