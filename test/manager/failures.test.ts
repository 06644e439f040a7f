import { describe, expect, it } from 'vitest';
import { InvalidArtifactError } from '../../src/errors.js';
import { EnhancedStateManager } from '../../src/manager/EnhancedStateManager.js';
import { failure } from '../hooks/support.js';
import { tempProject } from '../helpers.js';

async function open(options: ConstructorParameters<typeof EnhancedStateManager>[1] = {}) {
  const root = await tempProject();
  return { root, manager: new EnhancedStateManager(root, { gcInterval: 0, ...options }) };
}

describe('persistFailureArtifact', () => {
  it('stores the artifact as the next version of failure_<phase> and returns its full key', async () => {
    const { manager } = await open();
    const artifact = failure({ error: Object.assign(new Error('Domain invariant violated', { cause: new Error('root cause') }), { code: 'E_INV' }) });
    const key = await manager.persistFailureArtifact(artifact);
    expect(key).toMatch(/^failure_phase-4_\d{4}-\d{2}-\d{2}T[\d:.]+Z$/);
    const entry = await manager.loadEntry<Record<string, any>>('failure_phase-4');
    expect(entry!.id).toBe(key);
    expect(entry!.metadata).toMatchObject({ source: 'failure_handler', phase: 'phase-4' });
    expect(entry!.tags).toMatchObject({ type: 'failure', phase: 'phase-4', severity: 'high', retryable: 'true', failureType: 'validation', failureId: artifact.id });
    expect(entry!.data).toMatchObject({ id: artifact.id, context: artifact.context, artifacts: artifact.artifacts, retryable: true });
    expect(entry!.data.error).toMatchObject({ name: 'Error', message: 'Domain invariant violated', code: 'E_INV', cause: { message: 'root cause' } });
    expect(entry!.data.error.stack).toBe(artifact.error.stack);
    await manager.persistFailureArtifact(failure());
    expect((await manager.getVersions('failure_phase-4')).map((v) => v.version)).toEqual([2, 1]);
    await manager.shutdown();
  });

  it('emits failureArtifactPersisted, failure_<type> and failure_<phase> in that order, with the caller’s artifact', async () => {
    const { manager } = await open();
    const seen: Array<[string, any]> = [];
    for (const name of ['ssotSaved', 'failureArtifactPersisted', 'failure_validation', 'failure_phase-4', 'failure_compilation']) {
      manager.on(name, (payload) => seen.push([name, payload]));
    }
    const artifact = failure();
    const key = await manager.persistFailureArtifact(artifact);
    expect(seen.map(([name]) => name)).toEqual(['ssotSaved', 'failureArtifactPersisted', 'failure_validation', 'failure_phase-4']);
    const persisted = seen[1]![1];
    expect(persisted).toEqual({ artifact, key, timestamp: expect.stringMatching(/Z$/), cegis_trigger: true });
    expect(persisted.artifact).toBe(artifact);
    expect(persisted.artifact.error).toBeInstanceOf(Error);
    expect(seen[2]![1]).toBe(artifact);
    expect(seen[3]![1]).toBe(artifact);
    await manager.shutdown();
  });

  it('refuses a bad artifact before writing anything, naming the field', async () => {
    const { manager } = await open();
    await expect(manager.persistFailureArtifact(failure({ type: 'runtime' as never }))).rejects.toMatchObject({ code: 'INVALID_ARTIFACT', data: { field: 'type' } });
    await expect(manager.persistFailureArtifact({ ...failure(), phase: undefined } as never)).rejects.toThrow(/"phase" is missing/);
    await expect(manager.persistFailureArtifact(failure({ context: { fn: () => 1 } }))).rejects.toBeInstanceOf(InvalidArtifactError);
    expect(await manager.listFailures()).toEqual([]);
    expect(manager.getStatistics().totalEntries).toBe(0);
    await manager.shutdown();
  });

  it('commits a failure even inside a transaction that is rolled back', async () => {
    const { manager } = await open();
    const txId = await manager.beginTransaction();
    await manager.saveSSOT('spec', { a: 1 });
    await manager.persistFailureArtifact(failure());
    await manager.rollbackTransaction(txId);
    expect(await manager.loadSSOT('spec')).toBeNull();
    expect(await manager.listFailures()).toHaveLength(1);
    await manager.shutdown();
  });
});

describe('listFailures', () => {
  it('filters by phase, type, severity, retryable and since, newest first', async () => {
    const { manager } = await open();
    const early = '2025-01-01T00:00:00.000Z';
    await manager.persistFailureArtifact(failure({ id: 'a', phase: 'phase-1', type: 'compilation', severity: 'low', retryable: false, timestamp: early }));
    await manager.persistFailureArtifact(failure({ id: 'b', phase: 'phase-4', type: 'validation', severity: 'critical', retryable: true }));
    await manager.persistFailureArtifact(failure({ id: 'c', phase: 'phase-4', type: 'test', severity: 'critical', retryable: false }));
    await manager.persistFailureArtifact(failure({ id: 'd', phase: 'Phase 5 (Domain)', type: 'generation', severity: 'medium', retryable: true }));
    await manager.saveSSOT('failure_notes', { plain: 'data, not a failure' });
    await manager.saveSSOT('other', { x: 1 });
    const ids = async (filter = {}) => (await manager.listFailures(filter)).map((f) => f.artifact.id);
    expect(await ids()).toEqual(['d', 'c', 'b', 'a']);
    expect(await ids({ phase: 'phase-4' })).toEqual(['c', 'b']);
    expect(await ids({ phase: 'Phase 5 (Domain)' })).toEqual(['d']);
    expect(await ids({ type: 'test' })).toEqual(['c']);
    expect(await ids({ severity: 'critical' })).toEqual(['c', 'b']);
    expect(await ids({ retryable: false })).toEqual(['c', 'a']);
    expect(await ids({ since: '2025-06-01T00:00:00Z' })).toEqual(['d', 'c', 'b']);
    expect(await ids({ phase: 'phase-4', retryable: true })).toEqual(['b']);
    const [d] = await manager.listFailures({ type: 'generation' });
    expect(d).toMatchObject({ logicalKey: 'failure_Phase 5 (Domain)', version: 1, document: { id: 'd' } });
    expect(d!.artifact.error).toBeInstanceOf(Error);
    await expect(manager.listFailures({ type: 'nope' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await manager.shutdown();
  });

  it('keeps only maxVersions failures per phase, like any key', async () => {
    const { manager } = await open({ maxVersions: 2 });
    for (const id of ['1', '2', '3']) await manager.persistFailureArtifact(failure({ id }));
    expect((await manager.listFailures()).map((f) => f.artifact.id)).toEqual(['3', '2']);
    await manager.shutdown();
  });
});
