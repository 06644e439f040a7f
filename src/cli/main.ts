/**
 * The command-line program. Parsing and printing only: every command calls
 * the manager. Used as `ae-state <command>` and as
 * `ae-framework enhanced-state <command>`.
 */
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';
import { EXIT_USAGE } from './exit-codes.js';

/**
 * Builds the program with the commands that `argv` can reach: just the named
 * command when it is a known one, every command otherwise (for `--help`,
 * `help <command>` and usage errors, which list them all).
 */
export async function buildProgram(name: string, argv: string[] = []): Promise<Command> {
  const program = new Command(name)
    .description('A content-addressed, versioned store for specification state (AE-IR) in <root>/.ae/')
    .option('--root <dir>', 'project root that holds the .ae/ store', process.cwd())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  const named = commandNameOf(argv);
  const wanted = named !== null && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  const registers = await Promise.all(wanted.map((command) => COMMANDS[command]!()));
  for (const register of registers) register(program);
  program.commands.forEach((command) => command.exitOverride());
  return program;
}

/** The first argument that is not a global option (or the value of `--root`). */
function commandNameOf(argv: string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--root') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return null;
}

export async function main(argv: string[], name = 'ae-state'): Promise<void> {
  // `ae-state versions -k K | head -1` closes the pipe early: like any Unix
  // tool, stop quietly. The store is crash-safe, so stopping here is too.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(process.exitCode ?? 0);
    });
  }
  const program = await buildProgram(name, argv);
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
