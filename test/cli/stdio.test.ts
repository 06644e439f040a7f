import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DescriptorWriter } from '../../src/cli/stdio.js';
import { CLI, runCli, tempProject } from '../helpers.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

/** A stand-in for Node's stream: records what it is given and which error listeners it has. */
function recordingStream() {
  const written: string[] = [];
  const stream = { written, listeners: 0, write: (chunk: Uint8Array | string) => (written.push(Buffer.from(chunk).toString()), true), on: () => ((stream.listeners += 1), stream) };
  return stream;
}

describe('DescriptorWriter', () => {
  it('writes every byte to the descriptor, looping over short writes, without making the stream', () => {
    const onDescriptor: string[] = [];
    let made = 0;
    const writer = new DescriptorWriter(1, () => ((made += 1), recordingStream() as unknown as NodeJS.WriteStream), (_fd, bytes, offset, length) => {
      const taken = Math.min(3, length);
      onDescriptor.push(Buffer.from(bytes.subarray(offset, offset + taken)).toString());
      return taken;
    });
    writer.write('hello, ');
    writer.write(Buffer.from('world\n'));
    expect(onDescriptor.join('')).toBe('hello, world\n');
    expect(made).toBe(0);
  });

  it('hands the rest of a write the descriptor cannot take now (EAGAIN) to the stream, and every later write too', () => {
    const stream = recordingStream();
    const onDescriptor: string[] = [];
    let calls = 0;
    const writer = new DescriptorWriter(1, () => stream as unknown as NodeJS.WriteStream, (_fd, bytes, offset, length) => {
      calls += 1;
      if (calls === 2) throw errno('EAGAIN');
      const taken = Math.min(4, length);
      onDescriptor.push(Buffer.from(bytes.subarray(offset, offset + taken)).toString());
      return taken;
    });
    writer.write('abcdefgh');
    writer.write('ij');
    expect(onDescriptor).toEqual(['abcd']);
    expect(stream.written).toEqual(['efgh', 'ij']);
    expect(calls).toBe(2);
    // The stream's own errors are watched once it is in use (EPIPE ends quietly, others throw as before).
    expect(stream.listeners).toBe(1);
  });

  it('drops the write that met a closed pipe (EPIPE) and every later one, without making the stream', () => {
    let calls = 0;
    const writer = new DescriptorWriter(1, () => {
      throw new Error('a closed pipe must not make the stream');
    }, () => {
      calls += 1;
      throw errno('EPIPE');
    });
    expect(writer.write('first\n')).toBe(false);
    expect(writer.write('second\n')).toBe(false);
    expect(calls).toBe(1);
  });

  it('leaves an error it does not know to the stream, which reports it as it always did', () => {
    const stream = recordingStream();
    const writer = new DescriptorWriter(2, () => stream as unknown as NodeJS.WriteStream, () => {
      throw errno('EIO');
    });
    writer.write('message\n');
    expect(stream.written).toEqual(['message\n']);
  });

  it('is not a terminal on a file, and has no width there', async () => {
    const root = await tempProject();
    const fd = openSync(join(root, 'out.txt'), 'w');
    try {
      const writer = new DescriptorWriter(fd, () => {
        throw new Error('the stream must not be made to answer isTTY');
      });
      expect(writer.isTTY).toBe(false);
      expect(writer.columns).toBeUndefined();
    } finally {
      closeSync(fd);
    }
  });
});

/** Runs the CLI under bash with its stdout and stderr into a pipe whose reader has gone (`| true`); resolves with the CLI's status. */
function statusIntoClosedPipe(root: string, args: string[]): string {
  const command = [process.execPath, CLI, '--root', root, ...args].map((arg) => `'${arg}'`).join(' ');
  // The CLI starts writing after `true` has exited, so its first write meets a closed pipe.
  const result = spawnSync('bash', ['-c', `set -o pipefail; (sleep 0.3; exec ${command}) 2>&1 | true; echo "status $?"`], { encoding: 'utf8' });
  return result.stdout.trim();
}

describe('CLI output through a pipe', () => {
  it('exits with the status of the command when the pipe is closed: not found, usage error, no store, versions that differ', async () => {
    const root = await tempProject();
    for (const revision of [1, 2]) {
      await writeFile(join(root, 'doc.json'), JSON.stringify({ revision }));
      expect((await runCli(['--root', root, 'save', '-k', 'spec', '-i', join(root, 'doc.json')])).code).toBe(0);
    }
    expect(statusIntoClosedPipe(root, ['load', '-k', 'missing'])).toBe('status 3');
    expect(statusIntoClosedPipe(root, ['load', '-k', 'missing', '--json'])).toBe('status 3');
    expect(statusIntoClosedPipe(root, ['--kye'])).toBe('status 2');
    expect(statusIntoClosedPipe(join(root, 'nowhere'), ['versions', '-k', 'spec'])).toBe('status 4');
    expect(statusIntoClosedPipe(root, ['diff', '-k', 'spec'])).toBe('status 1');
    expect(statusIntoClosedPipe(root, ['load', '-k', 'spec'])).toBe('status 0');
  });

  it('stops quietly with status 0 when the reader closes the pipe early', async () => {
    const root = await tempProject();
    const big = { items: Array.from({ length: 20_000 }, (_, i) => ({ i, text: 'x'.repeat(20) })) };
    await writeFile(join(root, 'big.json'), JSON.stringify(big));
    expect((await runCli(['--root', root, 'save', '-k', 'big', '-i', join(root, 'big.json')])).code).toBe(0);
    // `head -c 1` exits after one byte, long before the 1 MB document is written.
    const result = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" --root "${root}" load -k big | head -c 1 >/dev/null; echo "status $?"`], { encoding: 'utf8' });
    expect(result.stdout.trim()).toBe('status 0');
    expect(result.stderr).toBe('');
  });
});
