/**
 * Printing diffs for people: one hunk per changed path, `-` lines for what
 * went, `+` lines for what came, in the manner of a unified diff.
 */
import type { Change, DiffSummary } from '../diff/diff-documents.js';
import type { SnapshotDiff } from '../diff/diff-snapshots.js';
import type { DiffSide, VersionDiff } from '../diff/diff-versions.js';
import type { Output } from './output.js';

export function printVersionDiff(out: Output, diff: VersionDiff): void {
  // Numbers can differ between revisions (a merge interleaves versions); the full key names a version.
  if (diff.from.key === diff.to.key) {
    out.line(out.bold(`diff ${diff.key}: one version on both sides`));
    out.line(`${describeSide(diff.from)} = ${describeSide(diff.to)}`);
    out.line('(no differences)');
    return;
  }
  out.line(out.bold(`diff ${diff.key} v${diff.from.version} → v${diff.to.version}`));
  out.line(out.bold(`--- ${describeSide(diff.from)}`));
  out.line(out.bold(`+++ ${describeSide(diff.to)}`));
  if (diff.equal) {
    out.line('(no differences)');
    return;
  }
  printChanges(out, diff.changes, '');
  out.line(summaryLine(diff.summary));
}

export function printSnapshotDiff(out: Output, diff: SnapshotDiff): void {
  out.line(out.bold(`diff snapshot ${diff.from} → ${diff.to}`));
  for (const key of diff.added) out.line(out.green(`+ ${key} (only in ${diff.to})`));
  for (const key of diff.removed) out.line(out.red(`- ${key} (only in ${diff.from})`));
  for (const changed of diff.changed) {
    out.line(out.yellow(`~ ${changed.key}: ${changed.from} → ${changed.to}`));
    printChanges(out, changed.changes, '    ');
  }
  out.line(
    `${diff.added.length} key(s) added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged} unchanged`,
  );
}

function printChanges(out: Output, changes: readonly Change[], indent: string): void {
  for (const change of changes) {
    const where = change.path === '' ? '(whole document)' : change.path;
    const label = change.kind === 'moved' ? `moved from ${change.from}` : change.kind;
    out.line(`${indent}${out.yellow(`@@ ${where} (${label}) @@`)}`);
    if (change.kind === 'removed' || change.kind === 'changed') printValue(out, indent, '-', change.before, out.red);
    if (change.kind === 'added' || change.kind === 'changed') printValue(out, indent, '+', change.after, out.green);
  }
}

function printValue(out: Output, indent: string, sign: string, value: unknown, paint: (text: string) => string): void {
  for (const line of JSON.stringify(value, null, 2).split('\n')) out.line(`${indent}${paint(`${sign} ${line}`)}`);
}

function describeSide(side: DiffSide): string {
  const where = side.at === undefined ? '' : ` (at ${side.at}${side.gitCommit ? ` = ${side.gitCommit.slice(0, 8)}` : ''})`;
  return `v${side.version} ${side.key}${where}`;
}

function summaryLine(summary: DiffSummary): string {
  return `${summary.added.length} added, ${summary.removed.length} removed, ${summary.changed.length} changed`;
}
