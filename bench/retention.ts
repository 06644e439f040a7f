/**
 * Benchmark `retention`: fsck and garbage collection of a 100,000-version
 * store (10,000 keys × 10 versions, half of them past their TTL), beside a
 * raw reference loop in the same run that reads, gunzips and hashes every
 * object file. Each measurement runs in its own child process, so its peak
 * memory (maxRSS) is its own.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
}

export async function runRetentionBench(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'ae-state-bench-retention-'));
  try {
    const built = Date.now();
    buildStore(storeLayout(root, '.ae'));
    process.stdout.write(`Built a store of ${TOTAL.toLocaleString('en')} versions (${KEYS.toLocaleString('en')} keys × ${VERSIONS_PER_KEY}) in ${((Date.now() - built) / 1000).toFixed(1)} s.\n\n`);
    const reference = measure('reference', root);
    const fsck = measure('fsck', root);
    const gc = measure('gc', root);
    const row = (name: string, m: Measurement, target: string) =>
      `| ${name} | ${m.seconds.toFixed(2)} | ${Math.round(TOTAL / m.seconds).toLocaleString('en')} | ${(m.seconds / reference.seconds).toFixed(2)}x | ${target} | ${m.maxRssMB.toFixed(0)} | ${m.detail} |`;
    process.stdout.write('| operation | seconds | versions/s | vs reference | target | peak RSS (MB) | result |\n|---|---|---|---|---|---|---|\n');
    process.stdout.write(`${row('reference: read + gunzip + sha256 of every object', reference, '1x')}\n`);
    process.stdout.write(`${row('fsck', fsck, '≤ 1.5x')}\n`);
    process.stdout.write(`${row('gc --prune=now (half expired)', gc, '≤ 2x')}\n`);
    process.stdout.write('\nPeak memory target: < 300 MB per operation.\n');
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
 * the run. Versions 1–5 of each key were created 30 days ago (past the
 * default TTL of 7 days), versions 6–10 one hour ago.
 */
function buildStore(layout: StoreLayout): void {
  for (const dir of [layout.objects, layout.keyRefs, layout.tags, layout.commits, layout.tmp, layout.staging]) mkdirSync(dir, { recursive: true });
  writeFileSync(layout.formatFile, FORMAT_MARKER);
  for (let i = 0; i < 256; i++) mkdirSync(join(layout.objects, i.toString(16).padStart(2, '0')), { recursive: true });
  const commits = new CommitLog(nodeFs, layout);
  const now = Date.now();
  let parent: string | null = null;
  for (let k = 0; k < KEYS; k++) {
    const logicalKey = `bench.key.${k}`;
    const keyDir = join(layout.keyRefs, keyDirName(logicalKey));
    mkdirSync(keyDir);
    const time = new Date(now - 31 * DAY_MS + k).toISOString();
    const records: VersionRecord[] = [];
    for (let v = 1; v <= VERSIONS_PER_KEY; v++) {
      const created = new Date(now - (v <= 5 ? 30 * DAY_MS : 3_600_000) + k * 10 + v).toISOString();
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

async function runChild(operation: string, root: string): Promise<void> {
  const manager = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
  await manager.initialize();
  const started = process.hrtime.bigint();
  let detail: string;
  if (operation === 'reference') {
    detail = referenceLoop(root);
  } else if (operation === 'fsck') {
    const result = await manager.fsck();
    detail = `${result.checked.objects} objects, ${result.checked.refs} refs, ${result.checked.commits} commits; ${result.errors} errors`;
  } else {
    const result = await manager.runGarbageCollection({ prune: 'now' });
    detail = `${result.expiredCount} versions and ${result.removedObjects} objects removed`;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await manager.shutdown();
  const measurement: Measurement = { seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, detail };
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

if (process.argv[2] === '--child') await runChild(process.argv[3]!, process.argv[4]!);
