/**
 * `npm start`: a short, real demonstration on a temporary project. It runs
 * the built CLI the way a pipeline or a hook script would, then shows the
 * same store through the API.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnhancedStateManager } from '../src/index.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(repo, 'bin', 'ae-state.js');
const sample = resolve(repo, 'examples', 'ae-ir.json');
const project = mkdtempSync(join(tmpdir(), 'ae-state-demo-'));

function step(title: string): void {
  process.stdout.write(`\n\u2500\u2500 ${title}\n`);
}

function aeState(...args: string[]): string {
  process.stdout.write(`$ ae-state ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: project, encoding: 'utf8' });
  process.stdout.write(result.stdout);
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    throw new Error(`ae-state ${args[0]} exited with ${result.status}`);
  }
  return result.stdout;
}

try {
  process.stdout.write(`Demonstration project: ${project}\n`);
  const spec = JSON.parse(readFileSync(sample, 'utf8')) as { domain: Array<Record<string, unknown>>; invariants: unknown[] };
  writeFileSync(join(project, 'ae-ir.json'), JSON.stringify(spec, null, 2));

  step('Save the AE-IR specification as version 1 (phase 5, domain modelling)');
  aeState('init');
  aeState('save', '-k', 'domain.user.specification', '-i', 'ae-ir.json', '-p', 'phase-5', '--source', 'domain_modeling');

  step('A refinement adds an entity and an invariant: version 2');
  spec.domain.unshift({ name: 'Product', fields: [{ name: 'sku', type: 'string', required: true }] });
  spec.invariants.push({ id: 'INV_002', description: 'Product SKU must be unique', expression: 'unique(Product.sku)', entities: ['Product'], severity: 'error' });
  writeFileSync(join(project, 'ae-ir.json'), JSON.stringify(spec, null, 2));
  aeState('save', '-k', 'domain.user.specification', '-i', 'ae-ir.json', '-p', 'phase-5', '--source', 'domain_modeling');

  step('List the versions, newest first');
  aeState('versions', '-k', 'domain.user.specification');

  step('Load version 1 back, verified against its checksum');
  aeState('load', '-k', 'domain.user.specification', '-v', '1', '-o', 'spec-v1.json');
  const v1 = JSON.parse(readFileSync(join(project, 'spec-v1.json'), 'utf8')) as { domain: Array<{ name: string }> };
  process.stdout.write(`version 1 has entities: ${v1.domain.map((d) => d.name).join(', ')}\n`);

  step('What changed from version 1 to version 2 (entities matched by name, not position)');
  const manager = new EnhancedStateManager(project);
  const change = await manager.diff('domain.user.specification', 1, 2);
  process.stdout.write(`added:   ${change.summary.added.join(', ')}\nremoved: ${change.summary.removed.join(', ') || '-'}\nchanged: ${change.summary.changed.join(', ') || '-'}\n`);
  process.stdout.write(`RFC 6902 patch: ${JSON.stringify(change.patch.map((op) => ({ op: op.op, path: op.path })))}\n`);

  step('Two specs saved atomically in one transaction');
  await manager.withTransaction(async (tx) => {
    await tx.saveSSOT('api.users.definition', { endpoints: ['POST /users', 'GET /users/:id'] }, { phase: 'phase-6' });
    await tx.saveSSOT('validation.rules', { rules: ['email is unique'] }, { phase: 'phase-6' });
  });
  await manager.shutdown();
  aeState('log', '-n', '2');

  step('Statistics of the store');
  aeState('stats');
  process.stdout.write('\nDone. The store is plain files under .ae/, ready to be committed next to the code.\n');
} finally {
  rmSync(project, { recursive: true, force: true });
}
