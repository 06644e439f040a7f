/**
 * Paths inside the store directory. See docs/FORMAT.md for what each holds.
 * Everything under `local/` is private to one machine and ignored by git.
 */
import { join, resolve } from 'node:path';

export interface StoreLayout {
  root: string;
  store: string;
  formatFile: string;
  gitignore: string;
  objects: string;
  refs: string;
  keyRefs: string;
  tags: string;
  commits: string;
  hooks: string;
  local: string;
  tmp: string;
  lock: string;
  head: string;
  staging: string;
  refChecks: string;
  /** A cache of every pack index in one file (see packs.ts). */
  multiPackIndex: string;
}

export function storeLayout(projectRoot: string, storePath: string): StoreLayout {
  const root = resolve(projectRoot);
  const store = resolve(root, storePath);
  const local = join(store, 'local');
  return {
    root,
    store,
    formatFile: join(store, 'FORMAT'),
    gitignore: join(store, '.gitignore'),
    objects: join(store, 'objects'),
    refs: join(store, 'refs'),
    keyRefs: join(store, 'refs', 'keys'),
    tags: join(store, 'refs', 'tags'),
    commits: join(store, 'commits'),
    hooks: join(store, 'hooks'),
    local,
    tmp: join(local, 'tmp'),
    lock: join(local, 'lock'),
    head: join(local, 'HEAD'),
    staging: join(local, 'staging'),
    refChecks: join(local, 'checked'),
    multiPackIndex: join(local, 'multi-pack-index'),
  };
}
