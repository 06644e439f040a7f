/**
 * Turns store events into hook runs. One dispatcher per open manager; hooks
 * run one at a time, in the order their events happened, so two hooks never
 * race each other on the same specification.
 *
 * Hooks start only after the call that caused them has published its commit
 * and released the store lock (`committed` is emitted after the lock is
 * released; failure hooks start after the failure's save returned), so a hook
 * may itself call the `ae-state` CLI to save without deadlocking.
 */
import type { EventEmitter } from 'node:events';
import type { ResolvedOptions } from '../model/options.js';
import type { StoreFs } from '../store/fs.js';
import type { StoreLayout } from '../store/layout.js';
import type { HookRun } from './runner.js';

/** Hooks calling the CLI that triggers hooks again stop at this depth, so a hook cannot loop forever. */
export const MAX_HOOK_DEPTH = 8;

/** Environment values that describe one event; inherited ones are removed so they never leak into an unrelated event. */
const EVENT_ENV = ['AE_EVENT', 'AE_KEY', 'AE_PHASE', 'AE_FAILURE_TYPE', 'AE_SEVERITY', 'AE_COMMIT', 'AE_STORE', 'AE_ROOT'] as const;

/** The parts of an open store a dispatcher needs. */
export interface HookHost {
  readonly layout: StoreLayout;
  readonly fs: StoreFs;
  readonly options: ResolvedOptions;
  readonly events: EventEmitter;
}

/** One event for hooks: which hooks to try, what they read on stdin, and their event variables. */
export interface HookEvent {
  event: string;
  hooks: string[];
  payload: Record<string, unknown>;
  env: Partial<Record<(typeof EVENT_ENV)[number], string>>;
}

export class HookDispatcher {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly onCommitted = (e: { commitId: string; keys: string[]; transactionId: string | null; operationCount: number }) =>
    void this.dispatch({ event: 'post-commit', hooks: ['post-commit'], payload: { ...e }, env: { AE_KEY: e.keys.join('\n'), AE_COMMIT: e.commitId } });
  private readonly onSnapshot = (e: Record<string, unknown>) =>
    void this.dispatch({ event: 'post-snapshot', hooks: ['post-snapshot'], payload: plain(e), env: phaseEnv(e) });
  private readonly onGc = (e: Record<string, unknown>) => void this.dispatch({ event: 'post-gc', hooks: ['post-gc'], payload: plain(e), env: {} });

  constructor(private readonly host: HookHost) {}

  /** Starts listening to the store events that have hooks. */
  attach(): void {
    this.host.events.on('committed', this.onCommitted);
    this.host.events.on('snapshotCreated', this.onSnapshot);
    this.host.events.on('garbageCollectionCompleted', this.onGc);
  }

  detach(): void {
    this.host.events.off('committed', this.onCommitted);
    this.host.events.off('snapshotCreated', this.onSnapshot);
    this.host.events.off('garbageCollectionCompleted', this.onGc);
  }

  /** Queues the event's hooks; resolves with their runs (none when no hook is installed). Never rejects. */
  dispatch(event: HookEvent): Promise<HookRun[]> {
    const result = this.queue.then(() => this.runEvent(event));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Resolves when every hook queued so far has finished. */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  private async runEvent(event: HookEvent): Promise<HookRun[]> {
    const runs: HookRun[] = [];
    for (const name of event.hooks) {
      try {
        // Loaded with the first event, so processes that only read never load it.
        const { findActiveHook } = await import('./discovery.js');
        const hook = await findActiveHook(this.host.fs, this.host.layout.hooks, name);
        if (hook === null) continue;
        if (!(await this.isTrusted(hook.path))) {
          this.host.events.emit('hookSkipped', { hook: name, event: event.event, reason: 'untrusted', message: untrustedHookMessage(name) });
          continue;
        }
        const depth = currentDepth();
        if (depth >= MAX_HOOK_DEPTH) {
          this.host.events.emit('hookSkipped', { hook: name, event: event.event, reason: `hook depth ${depth} reached the limit ${MAX_HOOK_DEPTH}` });
          continue;
        }
        runs.push(await this.runOne(name, hook.path, event));
      } catch (error) {
        // A hook problem must never reach the call that stored the state.
        this.host.events.emit('hookFailed', { hook: name, event: event.event, error: (error as Error).message });
      }
    }
    return runs;
  }

  /** Whether this machine approved the hook's current content (see trust.ts). */
  async isTrusted(path: string): Promise<boolean> {
    const [content, { isHookTrusted }] = await Promise.all([this.host.fs.readFile(path), import('./trust.js')]);
    return isHookTrusted(this.host.layout.root, path, content);
  }

  /** Runs one hook file for an event, records the run and emits `hookCompleted` or `hookFailed`. */
  async runOne(name: string, path: string, event: HookEvent): Promise<HookRun> {
    const { layout, options } = this.host;
    // `event` is written first for people reading the JSON, and last so a payload can never override it.
    const stdin = JSON.stringify(Object.assign({ event: event.event }, event.payload, { event: event.event }));
    // Loaded only when a hook actually runs: most saves have none.
    const [{ runHookProcess }, { appendHookRun }, { cliPath }] = await Promise.all([
      import('./runner.js'),
      import('./records.js'),
      import('./package-paths.js'),
    ]);
    const run = await runHookProcess(
      { name, path, cwd: layout.root, env: hookEnv(this.host, event, cliPath()), stdin, timeoutMs: options.hookTimeout * 1000 },
      event.event,
    );
    let recordError: string | undefined;
    try {
      await appendHookRun(this.host.fs, layout, run);
    } catch (error) {
      recordError = (error as Error).message;
    }
    this.host.events.emit(run.ok ? 'hookCompleted' : 'hookFailed', recordError === undefined ? run : { ...run, recordError });
    return run;
  }
}

/** What a user reads when a hook was skipped for want of trust: the command that trusts it. */
export function untrustedHookMessage(name: string): string {
  return `hook ${JSON.stringify(name)} was skipped: this machine has not trusted its current content (run "ae-state hooks trust ${name}" after reading it)`;
}

/** The hook's environment: the caller's, minus stale event values, plus this event's. */
export function hookEnv(host: HookHost, event: HookEvent, cli: string | null): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of EVENT_ENV) delete env[name];
  for (const [name, value] of Object.entries(event.env)) if (typeof value === 'string') env[name] = value;
  env.AE_EVENT = event.event;
  env.AE_STORE = host.layout.store;
  env.AE_ROOT = host.layout.root;
  env.AE_HOOK_DEPTH = String(currentDepth() + 1);
  if (env.AE_STATE_CLI === undefined && cli !== null) env.AE_STATE_CLI = cli;
  return env;
}

function currentDepth(): number {
  const depth = Number.parseInt(process.env.AE_HOOK_DEPTH ?? '0', 10);
  return Number.isSafeInteger(depth) && depth > 0 ? depth : 0;
}

/** `snapshotCreated` carries its phase in `metadata`; accept it at the top level too. */
function phaseEnv(e: Record<string, unknown>): HookEvent['env'] {
  const metadata = e?.metadata as { phase?: unknown } | undefined;
  const phase = typeof e?.phase === 'string' ? e.phase : metadata?.phase;
  return typeof phase === 'string' && !phase.includes('\u0000') ? { AE_PHASE: phase } : {};
}

/** Event payloads of other features, as JSON-safe data for stdin. */
function plain(e: unknown): Record<string, unknown> {
  try {
    const value = JSON.parse(JSON.stringify(e ?? {})) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return {};
  }
}
