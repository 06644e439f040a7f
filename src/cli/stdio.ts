/**
 * The CLI's standard output and error: bytes written to descriptors 1 and 2
 * with write(2), and Node's `process.stdout` / `process.stderr` made only
 * when a command needs a stream.
 *
 * Why: the first use of `process.stdout` builds a stream for whatever the
 * descriptor is, and for a pipe (how hook scripts, CI and tests run the
 * CLI) that loads Node's `net` and `stream` modules: 2–4 ms of a 65–90 ms
 * start, spent by every command that prints one document or one line.
 *
 * What stays as with the streams:
 * - Order. Each write is whole before the next begins. Once a writer has
 *   handed a write to the stream (below), every later write goes to the
 *   stream too, so nothing overtakes what is still queued there.
 * - A descriptor that cannot take the bytes now (`EAGAIN`: a pipe another
 *   process made non-blocking, and full) gets them through the stream,
 *   which waits; so do errors this writer does not know, which the stream
 *   reports as it always did.
 * - A pipe its reader closed (`ae-state versions | head -1`) is quiet: on
 *   `EPIPE` the writer drops this write and every later one, and the
 *   command runs to its end and exits with its own status (`diff | head -1`
 *   still says the versions differ). Once the stream has the descriptor,
 *   its `EPIPE` ends the process with the status set so far, as it did
 *   before this writer: the store is crash-safe, so stopping there is too.
 * - `isTTY` answers as the stream's would. A descriptor that is not a
 *   character device (a pipe, a file) is not a terminal, which one `fstat`
 *   tells without loading `node:tty`.
 */
import { fstatSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';

/** What commands write to: the part of a `WriteStream` the CLI uses. */
export interface OutputStream {
  write(chunk: string | Uint8Array): boolean;
  readonly isTTY: boolean;
  /** The terminal's width, or undefined when this is not a terminal. */
  readonly columns: number | undefined;
}

export class DescriptorWriter implements OutputStream {
  private handedOver: NodeJS.WriteStream | null = null;
  /** The reader closed the pipe: nothing more is written. */
  private isClosed = false;
  private terminal: boolean | undefined;

  /** `writeBytes` is write(2) (`fs.writeSync`); tests pass one that fails on cue. */
  constructor(
    private readonly fd: number,
    private readonly nodeStream: () => NodeJS.WriteStream,
    private readonly writeBytes: (fd: number, bytes: Uint8Array, offset: number, length: number) => number = writeSync,
  ) {}

  write(chunk: string | Uint8Array): boolean {
    if (this.handedOver !== null) return this.handedOver.write(chunk);
    if (this.isClosed) return false;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let offset = 0;
    try {
      while (offset < bytes.length) offset += this.writeBytes(this.fd, bytes, offset, bytes.length - offset);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') return this.stream().write(bytes.subarray(offset));
      this.isClosed = true;
      return false;
    }
  }

  get isTTY(): boolean {
    this.terminal ??= isTerminal(this.fd);
    return this.terminal;
  }

  get columns(): number | undefined {
    return this.isTTY ? this.stream().columns : undefined;
  }

  /**
   * Node's stream for this descriptor, for work that needs a stream (a tar
   * piped to standard output, a server that logs to it). From here on every
   * write goes through it.
   */
  stream(): NodeJS.WriteStream {
    if (this.handedOver === null) {
      const stream = this.nodeStream();
      stream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
        process.exit(process.exitCode ?? 0);
      });
      this.handedOver = stream;
    }
    return this.handedOver;
  }
}

function isTerminal(fd: number): boolean {
  try {
    if (!fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return isatty(fd);
}

export const stdout = new DescriptorWriter(1, () => process.stdout);
export const stderr = new DescriptorWriter(2, () => process.stderr);
