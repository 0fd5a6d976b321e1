import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A forced collection in this process (where the gateway under test runs): growth is measured after it.
setFlagsFromString('--expose-gc');
/** A full garbage collection (V8's `gc`). */
export const collectGarbage = runInNewContext('gc') as () => void;

/** The live JS heap of this process, in bytes, after two full collections. */
export function heapAfterCollection(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}
