/**
 * The command-line program. Parsing and printing only: every command calls
 * the manager. Used as `ae-state <command>` and as
 * `ae-framework enhanced-state <command>`.
 */
import { Command, CommanderError, type OutputConfiguration } from 'commander';
import { COMMANDS } from './commands/index.js';
import { EXIT_USAGE } from './exit-codes.js';
import { writeError } from './report-error.js';
import { stderr, stdout } from './stdio.js';
import { packageVersion } from './version.js';

/**
 * Builds the program with the commands that `argv` can reach: just the named
 * command when it is a known one, every command otherwise (for `--help`,
 * `help <command>` and usage errors, which list them all).
 */
export async function buildProgram(name: string, argv: string[] = []): Promise<Command> {
  const program = new Command(name)
    .description('A content-addressed, versioned store for specification state (AE-IR) in <root>/.ae/')
    .option('--root <dir>', 'project root that holds the .ae/ store (default: $AE_STATE_ROOT, else the nearest directory with .ae/ from here up to the top of the git work tree, else that top, else the current directory)')
    // The version is read from package.json only when it is asked for.
    .version(argv.includes('-V') || argv.includes('--version') ? packageVersion() : '', '-V, --version', 'print the version of ae-state')
    .addHelpText(
      'after',
      `
Exit statuses: 0 success, 1 error, 2 usage error, 3 not found, 4 no store to read.
Environment: AE_STATE_ROOT (the project root), AE_STATE_<OPTION> such as
AE_STATE_MAX_VERSIONS (see "config list"), NO_COLOR, FORCE_COLOR.`,
    )
    .exitOverride()
    .configureOutput(helpOutput());
  const named = commandNameOf(argv);
  const wanted = named !== null && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  const registers = await Promise.all(wanted.map((command) => COMMANDS[command]!()));
  for (const register of registers) register(program);
  for (const command of allCommands(program)) {
    command.exitOverride();
    checkRequiredOptionsLast(command);
  }
  return program;
}

/**
 * Commander's output through stdio.ts, so that help and usage never make
 * Node's stdio streams either; errors are reported by reportUsageError. Width
 * and colour are asked of the stream only at a terminal, or when the
 * environment forces colour, which is when commander's own default would
 * find anything but "no width, no colour".
 */
function helpOutput(): OutputConfiguration {
  const colourSet = () => ['NO_COLOR', 'FORCE_COLOR', 'CLICOLOR_FORCE'].some((name) => process.env[name] !== undefined);
  // Commander's defaults, made only when colour is asked of them (help at a terminal), not at every start.
  let commanderOutput: OutputConfiguration | undefined;
  const defaults = () => (commanderOutput ??= new Command().configureOutput());
  return {
    writeOut: (text) => stdout.write(text),
    writeErr: (text) => stderr.write(text),
    outputError: () => undefined,
    // Undefined off a terminal, as commander's default answers (its typings say number).
    getOutHelpWidth: () => stdout.columns as number,
    getErrHelpWidth: () => stderr.columns as number,
    getOutHasColors: () => (stdout.isTTY || colourSet() ? defaults().getOutHasColors!() : false),
    getErrHasColors: () => (stderr.isTTY || colourSet() ? defaults().getErrHasColors!() : false),
  };
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

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

/**
 * Commander reports a missing required option before an unknown one, so
 * `save --kye K -i F` would say "-k is required" instead of naming the typo.
 * Checking required options just before the action puts the typo first.
 */
function checkRequiredOptionsLast(command: Command): void {
  const required = command.options.filter((option) => option.mandatory);
  if (required.length === 0) return;
  for (const option of required) option.mandatory = false;
  command.hook('preAction', (_hooked, action) => {
    for (const option of required) {
      if (action.getOptionValue(option.attributeName()) === undefined) {
        action.error(`required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue', exitCode: EXIT_USAGE });
      }
    }
  });
}

export async function main(argv: string[], name = 'ae-state'): Promise<void> {
  // A pipe its reader closed (`ae-state versions -k K | head -1`) is written no more, quietly: see stdio.ts.
  const program = await buildProgram(name, argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every parsing mistake is a usage error.
      if (error.exitCode === 0) {
        process.exitCode = 0;
        return;
      }
      // A command group run without its command has had its help printed already.
      if (error.code !== 'commander.help') reportUsageError(error, name, argv);
      process.exitCode = EXIT_USAGE;
      return;
    }
    throw error;
  }
}

/** Commander's "error: unknown option '--kye'\n(Did you mean --key?)" in the CLI's one style. */
function reportUsageError(error: CommanderError, name: string, argv: string[]): void {
  const [what, ...rest] = error.message.replace(/^error: /, '').split('\n');
  const suggestion = rest.find((line) => /^\(Did you mean/.test(line));
  const message = suggestion === undefined ? what! : `${what} ${suggestion.replace('(Did you mean', '(did you mean')}`;
  const command = commandNameOf(argv);
  const help = command !== null && Object.hasOwn(COMMANDS, command) ? `${name} ${command} --help` : `${name} --help`;
  writeError(name.split(' ')[0]!, { code: 'USAGE', message, data: { commander: error.code }, hint: `run "${help}" for usage` }, argv.includes('--json'));
}
