/**
 * Running one hook script. The script is started directly (no shell) with no
 * arguments: event data reaches it only as JSON on stdin and as environment
 * values, never on a command line, so no value of an artifact can run a
 * command. It gets its own process group (`detached`), so that a timeout
 * kills the script and everything it started with one `kill(-pid)`.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Bytes of stdout and of stderr kept from the end of a hook's output. */
export const OUTPUT_TAIL_BYTES = 4096;
/** After the script exits, how long to wait for pipes that a background child still holds. */
const PIPE_GRACE_MS = 200;

export interface HookRunRequest {
  name: string;
  path: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin: string;
  timeoutMs: number;
}

/** What happened when a hook ran; stored under `.ae/local/hooks/` and emitted. */
export interface HookRun {
  hook: string;
  event: string;
  startedAt: string;
  durationMs: number;
  /** Exit status, or null when the script was ended by a signal or could not start. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  ok: boolean;
  pid: number | null;
  stdoutTail: string;
  stderrTail: string;
  /** Why the script could not be started (EACCES, ENOEXEC, a missing interpreter). */
  error?: string;
}

/** Runs a hook to completion or timeout. Never rejects: every outcome is a `HookRun`. */
export function runHookProcess(request: HookRunRequest, event: string, now: () => number = Date.now): Promise<HookRun> {
  const started = now();
  const run: HookRun = {
    hook: request.name,
    event,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    exitCode: null,
    signal: null,
    timedOut: false,
    ok: false,
    pid: null,
    stdoutTail: '',
    stderrTail: '',
  };
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(request.path, [], { cwd: request.cwd, env: request.env, shell: false, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      run.error = (error as Error).message;
      resolve(finish(run, started, now));
      return;
    }
    run.pid = child.pid ?? null;
    // A hook that does not read its stdin closes the pipe early: not an error.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(request.stdin);
    superviseHook(child, run, request.timeoutMs, () => resolve(finish(run, started, now)));
  });
}

/** Collects output tails, enforces the timeout, and calls `done` once the hook is over. */
function superviseHook(child: ChildProcess, run: HookRun, timeoutMs: number, done: () => void): void {
  const stdout = new TailBuffer(OUTPUT_TAIL_BYTES);
  const stderr = new TailBuffer(OUTPUT_TAIL_BYTES);
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  let settled = false;
  let grace: NodeJS.Timeout | undefined;
  const settle = () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    clearTimeout(grace);
    child.stdout!.destroy();
    child.stderr!.destroy();
    run.stdoutTail = stdout.text();
    run.stderrTail = stderr.text();
    done();
  };
  const timer = setTimeout(() => {
    if (run.exitCode !== null || run.signal !== null) return; // exited in time; only its pipes are still open
    run.timedOut = true;
    killGroup(child.pid);
    // The group is gone; do not wait on pipes held by processes that cannot be reaped.
    grace = setTimeout(settle, PIPE_GRACE_MS);
  }, timeoutMs);
  child.on('error', (error) => {
    run.error = error.message;
    settle();
  });
  child.on('exit', (code, signal) => {
    run.exitCode = code;
    run.signal = signal;
    // 'close' follows once every holder of the pipes has exited; a background
    // child the hook left running may hold them much longer.
    if (!run.timedOut) grace = setTimeout(settle, PIPE_GRACE_MS);
  });
  child.on('close', settle);
}

/** Kills a hook's whole process group; the group may already be gone. */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: every process of the group has exited already.
  }
}

function finish(run: HookRun, started: number, now: () => number): HookRun {
  run.durationMs = Math.max(0, now() - started);
  run.ok = !run.timedOut && run.error === undefined && run.exitCode === 0;
  return run;
}

/** Keeps the last `limit` bytes of a stream. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.limit) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    // Cutting may split a UTF-8 sequence; the replacement character marks it.
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}
