/**
 * The SQLite-backed CLI the start-up rows compare with: `load` of a key's
 * newest version from the peer benchmark's `versions` table, verified and
 * printed as `ae-state load` prints it.
 *
 *   node sqlite-load-cli.js <db> <logical-key>
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';

const [file, key] = process.argv.slice(2);
const db = new Database(file!, { readonly: true, fileMustExist: true });
const row = db.prepare('SELECT checksum, data FROM versions WHERE logical_key = ? ORDER BY version DESC LIMIT 1').get(key) as
  | { checksum: string; data: Buffer }
  | undefined;
if (row === undefined) {
  process.stderr.write(`no version of "${key}"\n`);
  process.exit(3);
}
const bytes = gunzipSync(row.data);
if (createHash('sha256').update(bytes).digest('hex') !== row.checksum) throw new Error(`checksum mismatch for "${key}"`);
process.stdout.write(`${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2)}\n`);
db.close();
