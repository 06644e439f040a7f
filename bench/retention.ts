/**
 * Benchmark `retention`: fsck and garbage collection of a 100,000-version
 * store (10,000 keys × 10 versions), beside a raw reference loop in the same
 * run that reads, gunzips and hashes every object file. GC runs twice with a
 * moved clock: a typical run that finds 10% of the versions expired, then a
 * heavy one that removes half of the store. Deleting files is a cost of its
 * own on this kind of disk, so a second raw reference measures plain
 * `unlink` of flushed files of the same size, and the heavy run is also
 * compared with reading everything plus deleting what it deletes. Each
 * measurement runs in its own child process, so its peak memory (maxRSS) is
 * its own.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { EnhancedStateManager } from '../src/index.js';
import { keyDirName, makeFullKey, timestampToFileStem } from '../src/model/keys.js';
import { encodeRecord, FORMAT_VERSION, type CommitRecord, type VersionRecord } from '../src/model/records.js';
import { FORMAT_MARKER } from '../src/manager/open-store.js';
import { CommitLog } from '../src/store/commits.js';
import { nodeFs } from '../src/store/fs.js';
import { storeLayout, type StoreLayout } from '../src/store/layout.js';

const KEYS = 10_000;
const VERSIONS_PER_KEY = 10;
const TOTAL = KEYS * VERSIONS_PER_KEY;
const DAY_MS = 86_400_000;

interface Measurement {
  seconds: number;
  maxRssMB: number;
  detail: string;
  /** Files a GC run deleted (version records and objects). */
  filesRemoved?: number;
  /** The unlink reference: seconds per deleted file. */
  perFileSeconds?: number;
}

export async function runRetentionBench(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'ae-state-bench-retention-'));
  try {
    const built = Date.now();
    buildStore(storeLayout(root, '.ae'));
    process.stdout.write(`Built a store of ${TOTAL.toLocaleString('en')} versions (${KEYS.toLocaleString('en')} keys × ${VERSIONS_PER_KEY}) in ${((Date.now() - built) / 1000).toFixed(1)} s.\n\n`);
    const reference = measure('reference', root);
    const unlink = measure('unlink-reference', root);
    const fsck = measure('fsck', root);
    const typical = measure('gc-typical', root);
    const heavy = measure('gc-heavy', root);
    const unlinkSeconds = (m: Measurement) => (m.filesRemoved ?? 0) * (unlink.perFileSeconds ?? 0);
    const row = (name: string, m: Measurement, target: string, withDeletes = false) => {
      const vsDeletes = withDeletes ? `${(m.seconds / (reference.seconds + unlinkSeconds(m))).toFixed(2)}x` : '-';
      return `| ${name} | ${m.seconds.toFixed(2)} | ${Math.round(TOTAL / m.seconds).toLocaleString('en')} | ${(m.seconds / reference.seconds).toFixed(2)}x | ${vsDeletes} | ${target} | ${m.maxRssMB.toFixed(0)} | ${m.detail} |`;
    };
    process.stdout.write('| operation | seconds | versions/s | vs reference | vs reference + raw unlinks | target | peak RSS (MB) | result |\n|---|---|---|---|---|---|---|---|\n');
    process.stdout.write(`${row('reference: read + gunzip + sha256 of every object', reference, '1x')}\n`);
    process.stdout.write(`${row('fsck', fsck, '≤ 1.5x')}\n`);
    process.stdout.write(`${row('gc --prune=now, typical (10% expired)', typical, '≤ 2x', true)}\n`);
    process.stdout.write(`${row('gc --prune=now, heavy (half the store expired)', heavy, '≤ 2x', true)}\n`);
    process.stdout.write(`\nRaw unlink of flushed files on this disk: ${((unlink.perFileSeconds ?? 0) * 1e6).toFixed(0)} µs per file (${unlink.detail}).\n`);
    process.stdout.write('Peak memory target: < 300 MB per operation.\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function measure(operation: string, root: string): Measurement {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', operation, root], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Measurement;
}

/**
 * Writes the store directly with the format's encoders (one commit per key,
 * chained), without fsync: building it through 100,000 saves would dominate
 * the run. Version v of each key was created 12 - v days ago, so with the
 * default TTL of 7 days version v expires 5 - v days from now: at the typical
 * run's clock (3.5 days ago) only version 1 has expired; at the heavy run's
 * (1.5 days ahead) versions 1 to 6.
 */
export function buildStore(layout: StoreLayout, keys = KEYS): void {
  for (const dir of [layout.objects, layout.keyRefs, layout.tags, layout.commits, layout.tmp, layout.staging]) mkdirSync(dir, { recursive: true });
  writeFileSync(layout.formatFile, FORMAT_MARKER);
  for (let i = 0; i < 256; i++) mkdirSync(join(layout.objects, i.toString(16).padStart(2, '0')), { recursive: true });
  const commits = new CommitLog(nodeFs, layout);
  const now = Date.now();
  let parent: string | null = null;
  for (let k = 0; k < keys; k++) {
    const logicalKey = `bench.key.${k}`;
    const keyDir = join(layout.keyRefs, keyDirName(logicalKey));
    mkdirSync(keyDir);
    const time = new Date(now - 31 * DAY_MS + k).toISOString();
    const records: VersionRecord[] = [];
    for (let v = 1; v <= VERSIONS_PER_KEY; v++) {
      const created = new Date(now - (12 - v) * DAY_MS + k * 10 + v).toISOString();
      const serialized = Buffer.from(JSON.stringify({ key: logicalKey, version: v, body: `specification text ${k}-${v} `.repeat(8) }));
      const checksum = createHash('sha256').update(serialized).digest('hex');
      writeFileSync(join(layout.objects, checksum.slice(0, 2), checksum.slice(2)), gzipSync(serialized));
      records.push({ format: FORMAT_VERSION, fullKey: makeFullKey(logicalKey, created), logicalKey, timestamp: created, version: v, checksum, compressed: true, size: serialized.length, tags: {}, source: 'bench', created, commit: '' });
    }
    const commit: CommitRecord = { format: FORMAT_VERSION, parent, time, message: `save ${logicalKey}`, transaction: null, operations: records.map((r) => ({ fullKey: r.fullKey, logicalKey, version: r.version, checksum: r.checksum })) };
    const { id, bytes } = commits.prepare(commit);
    writeFileSync(commits.pathOf(id), bytes);
    for (const record of records) writeFileSync(join(keyDir, `${timestampToFileStem(record.timestamp)}.json`), encodeRecord({ ...record, commit: id }));
    parent = id;
  }
}

/** The raw reference: read, gunzip and hash every object file, one after another. */
function referenceLoop(root: string): string {
  const objects = join(root, '.ae', 'objects');
  let count = 0;
  for (const fanout of readdirSync(objects)) {
    for (const name of readdirSync(join(objects, fanout))) {
      const digest = createHash('sha256').update(gunzipSync(readFileSync(join(objects, fanout, name)))).digest('hex');
      if (digest !== fanout + name) throw new Error(`reference loop: ${fanout}${name} is corrupt`);
      count++;
    }
  }
  return `${count} objects verified`;
}

/**
 * The second raw reference: unlink files like the store's objects (same
 * fan-out, same size), written and flushed to disk first, one after another.
 */
function unlinkReference(root: string): { detail: string; perFileSeconds: number; seconds: number } {
  const dir = join(root, 'unlink-reference');
  const files: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const fanout = join(dir, (i % 256).toString(16).padStart(2, '0'));
    if (i < 256) mkdirSync(fanout, { recursive: true });
    files.push(join(fanout, `object-${i}`));
    writeFileSync(files[i]!, gzipSync(Buffer.from(`specification text ${i} `.repeat(8))));
  }
  execFileSync('sync');
  const started = process.hrtime.bigint();
  for (const file of files) unlinkSync(file);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rmSync(dir, { recursive: true, force: true });
  return { detail: `${files.length} files`, perFileSeconds: seconds / files.length, seconds };
}

async function runChild(operation: string, root: string): Promise<void> {
  if (operation === 'unlink-reference') {
    const { detail, perFileSeconds, seconds } = unlinkReference(root);
    process.stdout.write(`${JSON.stringify({ seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, detail, perFileSeconds })}\n`);
    return;
  }
  const clockOffset = operation === 'gc-typical' ? -3.5 * DAY_MS : operation === 'gc-heavy' ? 1.5 * DAY_MS : 0;
  const manager = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false }, { clock: () => Date.now() + clockOffset });
  await manager.initialize();
  const started = process.hrtime.bigint();
  let detail: string;
  let filesRemoved: number | undefined;
  if (operation === 'reference') {
    detail = referenceLoop(root);
  } else if (operation === 'fsck') {
    const result = await manager.fsck();
    detail = `${result.checked.objects} objects, ${result.checked.refs} refs, ${result.checked.commits} commits; ${result.errors} errors`;
  } else {
    const result = await manager.runGarbageCollection({ prune: 'now' });
    filesRemoved = result.expiredCount + result.removedObjects;
    detail = `${result.expiredCount} versions and ${result.removedObjects} objects removed`;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await manager.shutdown();
  const measurement: Measurement = { seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, detail, filesRemoved };
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

if (process.argv[2] === '--child') await runChild(process.argv[3]!, process.argv[4]!);
