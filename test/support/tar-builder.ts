/**
 * Builds tar archives member by member, including hostile ones (links,
 * devices, traversal, lying sizes), for the archive and bad-input tests.
 */
import { writeFile } from 'node:fs/promises';
import { pack } from 'tar-stream';

export interface Member {
  name: string;
  body?: Buffer | string;
  type?: 'file' | 'symlink' | 'link' | 'directory' | 'character-device';
  linkname?: string;
  size?: number;
}

export async function buildTar(path: string, members: Member[]): Promise<void> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (chunk: unknown) => void chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => tar.on('end', () => resolve()));
  for (const member of members) {
    const body = typeof member.body === 'string' ? Buffer.from(member.body) : member.body;
    await new Promise<void>((resolve, reject) => {
      const header = { name: member.name, type: member.type ?? 'file', linkname: member.linkname, mtime: new Date(0) };
      if (body) tar.entry(header, body, (e) => (e ? reject(e) : resolve()));
      else tar.entry(header, (e) => (e ? reject(e) : resolve()));
    });
  }
  tar.finalize();
  await ended;
  await writeFile(path, Buffer.concat(chunks));
}
