/**
 * Checking the project root before the store is created or opened in it: it
 * must be an ordinary, writable directory. A file or device fails with a
 * clear error instead of an errno from deep inside, and a kernel pseudo file
 * system (`/proc/1`, `/sys`), whose directories answer in ways no store
 * expects (and made opening one loop forever), is refused outright.
 */
import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';

// statfs(2) magic numbers of file systems that are views of the kernel, not storage.
const PSEUDO_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x73636673, 'securityfs'],
  [0x42494e4d, 'binfmt_misc'],
  [0x6e736673, 'nsfs'],
]);

/** Throws `InvalidArgumentError` unless `root` is an ordinary directory this process can write (or does not exist yet). */
export function assertUsableProjectRoot(root: string): void {
  const stats = statSync(root, { throwIfNoEntry: false });
  const refuse = (why: string) => {
    throw new InvalidArgumentError(`project root ${root} ${why}; the store needs an ordinary writable directory`, { root });
  };
  if (stats === undefined) return; // Created with the store, as before.
  if (!stats.isDirectory()) refuse('is not a directory');
  const pseudo = fileSystemName(root);
  if (pseudo !== null) refuse(`is on the ${pseudo} pseudo file system`);
  try {
    accessSync(root, constants.W_OK | constants.X_OK);
  } catch {
    refuse('is not writable');
  }
}

function fileSystemName(root: string): string | null {
  try {
    return PSEUDO_FILE_SYSTEMS.get(Number(statfsSync(root).type)) ?? null;
  } catch {
    return null; // statfs is not available everywhere; the other checks still hold.
  }
}
