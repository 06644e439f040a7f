/**
 * Hook scripts as the manager offers them: the installed hooks with their
 * last runs, and running one hook by name with a given event.
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { assertHookName, inspectHook, listInstalledHooks, type InstalledHook } from '../hooks/discovery.js';
import { untrustedHookMessage, type HookDispatcher, type HookEvent } from '../hooks/dispatcher.js';
import { hookContentHash, isHookTrusted, trustHooks } from '../hooks/trust.js';
import { readHookRuns } from '../hooks/records.js';
import type { HookRun } from '../hooks/runner.js';
import type { StoreContext } from './context.js';

export interface HookStatus extends InstalledHook {
  /** Whether this machine approved the file's current content (`ae-state hooks trust NAME`); only trusted hooks run. */
  trusted: boolean;
  /** The newest recorded run, or null when it never ran on this machine. */
  lastRun: HookRun | null;
}

/** Every file in `<store>/hooks/` (active or not), with its last run. */
export async function listHooks(ctx: StoreContext): Promise<HookStatus[]> {
  const hooks = await listInstalledHooks(ctx.fs, ctx.layout.hooks);
  return Promise.all(
    hooks.map(async (hook) => ({
      ...hook,
      trusted: hook.reason === 'symbolic link' || hook.reason === 'not a file' ? false : await isHookTrusted(ctx.layout.root, hook.path, await ctx.fs.readFile(hook.path)),
      lastRun: (await readHookRuns(ctx.fs, ctx.layout, hook.name))[0] ?? null,
    })),
  );
}

export interface HookTrustResult {
  hook: string;
  path: string;
  sha256: string;
  /** Where the approval is kept (inside .git/, or the per-user config folder). */
  trustFile: string;
}

/** Approves the hook `name` as it is now, so the store runs it; a later change voids the approval. */
export async function trustHook(ctx: StoreContext, name: string): Promise<HookTrustResult> {
  assertHookName(name);
  const hook = await inspectHook(ctx.fs, ctx.layout.hooks, name);
  if (hook === null) throw new NotFoundError(`hook ${JSON.stringify(name)} in ${ctx.layout.hooks}`, { hook: name });
  if (hook.reason === 'symbolic link' || hook.reason === 'not a file') {
    throw new InvalidArgumentError(`hook ${JSON.stringify(name)} is a ${hook.reason}; only regular files can be trusted`, { hook: name, reason: hook.reason });
  }
  const content = await ctx.fs.readFile(hook.path);
  const trustFile = await trustHooks(ctx.layout.root, [{ path: hook.path, content }]);
  return { hook: name, path: hook.path, sha256: hookContentHash(content), trustFile };
}

/** The recorded runs of one hook, newest first. */
export async function hookRuns(ctx: StoreContext, name: string): Promise<HookRun[]> {
  assertHookName(name);
  return readHookRuns(ctx.fs, ctx.layout, name);
}

/**
 * Runs the hook `name` once with `payload` as its event (what it reads on
 * stdin), as the store would, and records the run. The event variables
 * (`AE_KEY`, `AE_PHASE`, …) are taken from the payload when it has them.
 */
export async function runHookByName(ctx: StoreContext, dispatcher: HookDispatcher, name: string, payload: Record<string, unknown>): Promise<HookRun> {
  assertHookName(name);
  const hook = await inspectHook(ctx.fs, ctx.layout.hooks, name);
  if (hook === null) throw new NotFoundError(`hook ${JSON.stringify(name)} in ${ctx.layout.hooks}`, { hook: name });
  if (!hook.active) {
    const fix = hook.reason === 'sample' ? 'copy it to a name without .sample' : 'chmod +x it';
    throw new InvalidArgumentError(`hook ${JSON.stringify(name)} is inactive (${hook.reason}); ${fix}`, { hook: name, reason: hook.reason });
  }
  if (!(await dispatcher.isTrusted(hook.path))) throw new InvalidArgumentError(untrustedHookMessage(name), { hook: name, reason: 'untrusted' });
  const [run] = await dispatcher.dispatch(eventFromPayload(name, payload));
  if (run === undefined) throw new NotFoundError(`hook ${JSON.stringify(name)} in ${ctx.layout.hooks}`, { hook: name });
  return run;
}

function eventFromPayload(name: string, payload: Record<string, unknown>): HookEvent {
  const artifact = isObject(payload.artifact) ? payload.artifact : {};
  const defaultEvent = name.startsWith('failure') ? 'failure' : name;
  const env: HookEvent['env'] = {};
  const keys = Array.isArray(payload.keys) ? payload.keys.filter(isEnvSafe).join('\n') : undefined;
  setIfSafe(env, 'AE_KEY', payload.key ?? keys);
  setIfSafe(env, 'AE_PHASE', artifact.phase ?? payload.phase);
  setIfSafe(env, 'AE_FAILURE_TYPE', artifact.type);
  setIfSafe(env, 'AE_SEVERITY', artifact.severity);
  setIfSafe(env, 'AE_COMMIT', payload.commitId);
  return { event: isEnvSafe(payload.event) ? payload.event : defaultEvent, hooks: [name], payload, env };
}

function setIfSafe(env: HookEvent['env'], name: keyof HookEvent['env'], value: unknown): void {
  if (isEnvSafe(value)) env[name] = value;
}

/** Environment values cannot hold NUL; anything else is passed as the string it is. */
function isEnvSafe(value: unknown): value is string {
  return typeof value === 'string' && !value.includes('\u0000');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
