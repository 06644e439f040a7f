import { InvalidArgumentError, type Command } from 'commander';
import { spawn } from 'node:child_process';
import { runCommand } from '../context.js';
import { stderr } from '../stdio.js';

interface ServeFlags {
  port: number;
  host: string;
  open?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'serve a read-only web view of the store (keys, versions, diffs, snapshots, failures, health) on 127.0.0.1; prints the URL with its access token and runs until interrupted',
    )
    .option('--port <n>', 'port to listen on (0: any free port)', parsePort, 0)
    .option('--host <host>', 'address to bind; anything but loopback lets other machines reach it (they still need the token)', '127.0.0.1')
    .option('--open', 'open the URL in the default browser')
    .action((flags: ServeFlags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        // The server logs to process.stderr: every line of this command goes through that one stream, in order.
        stderr.stream();
        // Loaded only here: no other command pays for the web framework.
        const [{ startServer }, { canonicalHost, isLoopbackHost }] = await Promise.all([import('../../serve/server.js'), import('../../serve/security.js')]);
        if (!isLoopbackHost(canonicalHost(flags.host))) {
          stderr.write(
            `ae-state serve: warning: binding ${flags.host}, which is not a loopback address: anyone who can reach it and learns the URL can read the store\n`,
          );
        }
        const server = await startServer({ manager: manager(), host: flags.host, port: flags.port });
        out.line(`ae-state serve: ${server.url}`);
        out.line('(read-only; the token in the URL is needed for every page; press Ctrl+C to stop)');
        const launch = flags.open ? await openInBrowser(server.url) : null;
        await untilInterrupted();
        await server.close();
        await launch?.remove();
      }),
    );
}

/** Parsed with the other flags, so a bad port is a usage error before the store is looked for. */
function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError(`must be a number from 0 to 65535 (got ${JSON.stringify(value)})`);
  return Number(value);
}

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * The platform's opener on a page that leads to the URL (never the URL
 * itself: arguments are public, the token is not), started without a shell.
 */
async function openInBrowser(url: string): Promise<{ remove(): Promise<void> }> {
  const { writeLaunchPage } = await import('../../serve/launch-page.js');
  const page = await writeLaunchPage(url);
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [page.path]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', page.path]]
        : ['xdg-open', [page.path]];
  const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
  child.on('error', () => stderr.write(`ae-state serve: could not open a browser; open the URL above\n`));
  child.unref();
  return page;
}
