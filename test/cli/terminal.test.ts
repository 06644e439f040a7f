/**
 * Progress and colour as a user sees them in a terminal: the CLI runs under
 * script(1), which gives it a pseudo-terminal for stdout and stderr.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, runCli, tempProject } from '../helpers.js';

const CLEAR_LINE = '\r\u001b[K';

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Runs the CLI on a pseudo-terminal; resolves with everything it drew (stdout and stderr together). */
function runInTerminal(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of ['NO_COLOR', 'FORCE_COLOR']) if (!(name in env)) delete childEnv[name];
  return new Promise((resolve, reject) => {
    execFile('script', ['-qec', command, '/dev/null'], { cwd, env: childEnv }, (error, stdout) => {
      if (error) reject(new Error(`${command}: ${error.message}\n${stdout}`));
      else resolve(stdout.replace(/\r\n/g, '\n'));
    });
  });
}

async function projectWithSnapshot(): Promise<{ root: string; snapshot: string }> {
  const root = await tempProject();
  for (let i = 0; i < 3; i++) await runCli(['save', '-k', `spec${i}`, '-i', '-', '-p', 'phase-5'], { cwd: root, input: JSON.stringify({ i }) });
  const created = await runCli(['snapshot', '-p', 'phase-5', '--json'], { cwd: root });
  return { root, snapshot: (JSON.parse(created.stdout) as { snapshotId: string }).snapshotId };
}

describe('CLI on a terminal', () => {
  it('draws a progress bar for a tar export and clears it before the summary', async () => {
    const { root, snapshot } = await projectWithSnapshot();
    const screen = await runInTerminal(['export', '--snapshot', snapshot, '-o', 'snap.tar'], root);
    expect(screen).toMatch(/exporting snapshot_phase-5_\S+ \[#+\] 100% \d+\/\d+/);
    const summary = screen.indexOf('exported 3 entries to snap.tar');
    expect(summary).toBeGreaterThan(0);
    expect(screen.lastIndexOf(CLEAR_LINE, summary)).toBe(summary - CLEAR_LINE.length);
  });

  it('shows activity for JSON import, export, gc, fsck and migrate, cleared before each summary', async () => {
    const { root } = await projectWithSnapshot();
    const cases: Array<[string[], string]> = [
      [['export', '-o', 'backup.json'], 'exported 3 entries to backup.json'],
      [['gc'], 'gc done'],
      [['fsck'], 'checked '],
      [['migrate'], 'nothing to migrate'],
    ];
    for (const [args, summary] of cases) {
      const screen = await runInTerminal(args, root, { NO_COLOR: '1' });
      const at = screen.indexOf(summary);
      expect(at, args[0]).toBeGreaterThan(0);
      expect(screen.slice(0, at).endsWith(CLEAR_LINE), args[0]).toBe(true);
    }
    const other = await tempProject();
    const imported = await runInTerminal(['import', '-i', `${root}/backup.json`], other, { NO_COLOR: '1' });
    expect(imported).toMatch(/importing \S+backup\.json [|/\\-] \d+\.\d s/);
    expect(imported).toContain(`${CLEAR_LINE}imported `);
    expect(imported).toContain('(3 new, 0 already present)');
  });

  it('draws no bar and no colour when piped', async () => {
    const { root, snapshot } = await projectWithSnapshot();
    const piped = await runCli(['export', '--snapshot', snapshot, '-o', 'snap.tar'], { cwd: root, env: { NO_COLOR: '' } });
    expect(piped.stderr).toBe('exported 3 entries to snap.tar (' + piped.stderr.split('(')[1]);
    expect(piped.stderr).not.toContain('\r');
    expect((await runCli(['versions', '-k', 'spec0'], { cwd: root, env: { NO_COLOR: '' } })).stdout).not.toContain('\u001b[');
  });

  it('colours on a terminal, not with NO_COLOR, and with FORCE_COLOR even when piped', async () => {
    const { root } = await projectWithSnapshot();
    expect(await runInTerminal(['versions', '-k', 'spec0'], root)).toContain('\u001b[1mVERSION');
    expect(await runInTerminal(['versions', '-k', 'spec0'], root, { NO_COLOR: '1' })).not.toContain('\u001b[');
    expect((await runCli(['versions', '-k', 'spec0'], { cwd: root, env: { NO_COLOR: '', FORCE_COLOR: '1' } })).stdout).toContain('\u001b[1mVERSION');
    expect(await runInTerminal(['versions', '-k', 'spec0'], root, { FORCE_COLOR: '0' })).not.toContain('\u001b[');
  });
});
