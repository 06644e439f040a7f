/**
 * A process-wide bound on file descriptors the store holds open across an
 * await. With the direct file system (direct-fs.ts) a descriptor is open
 * across an await only while its fsync waits on the thread pool; without a
 * bound, a 20,000-version import started 20,000 background fsyncs and failed
 * with EMFILE under the common limit of 1,024 descriptors (256 on macOS).
 * Every open that may wait takes a permit first, so the store's own
 * descriptors stay at most `DESCRIPTOR_LIMIT` whatever the input size.
 */

/** Descriptors the store keeps open at once, process-wide: well under 256, far above what the four fsync threads can use. */
export const DESCRIPTOR_LIMIT = 64;

let available = DESCRIPTOR_LIMIT;
const waiting: Array<() => void> = [];

/** Runs `work` (which opens one descriptor and closes it before it settles) holding one permit. */
export async function withDescriptor<T>(work: () => Promise<T>): Promise<T> {
  if (available > 0) available--;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await work();
  } finally {
    // The permit passes straight to the next waiter, so `available` never over-counts.
    const next = waiting.shift();
    if (next !== undefined) next();
    else available++;
  }
}
