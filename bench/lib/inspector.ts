import WebSocket from 'ws';

/** A DevTools-protocol session on a server started with `--inspect=127.0.0.1:0`, used by the memory phase. */
export interface InspectorSession {
  /** Forces a full, compacting GC in the server (HeapProfiler.collectGarbage). */
  readonly collectGarbage: () => Promise<void>;
  /** The server's live JS heap in KiB (Runtime.getHeapUsage). */
  readonly heapUsedKiB: () => Promise<number>;
  readonly close: () => void;
}

/** The inspector URL Node prints to stderr on start: "Debugger listening on ws://127.0.0.1:PORT/UUID". */
export function findInspectorUrl(log: string): string | undefined {
  return /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(log)?.[1];
}

export function openInspector(url: string, timeoutMs = 5000): Promise<InspectorSession> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    let nextId = 1;
    const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
    ws.on('message', (raw) => {
      const message = JSON.parse((raw as Buffer).toString()) as { id?: number; result?: unknown; error?: { message: string } };
      const waiter = message.id === undefined ? undefined : pending.get(message.id);
      if (waiter === undefined || message.id === undefined) return; // events
      pending.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
    });
    ws.once('error', reject);
    ws.once('close', () => {
      for (const waiter of pending.values()) waiter.reject(new Error('inspector closed'));
      pending.clear();
    });
    const call = (method: string): Promise<unknown> => new Promise((ok, fail) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        fail(new Error(`inspector: ${method} timed out`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (result) => { clearTimeout(timer); ok(result); },
        reject: (error) => { clearTimeout(timer); fail(error); },
      });
      ws.send(JSON.stringify({ id, method }));
    });
    ws.once('open', () => resolve({
      collectGarbage: async () => { await call('HeapProfiler.collectGarbage'); },
      heapUsedKiB: async () => ((await call('Runtime.getHeapUsage')) as { usedSize: number }).usedSize / 1024,
      close: () => ws.close(),
    }));
  });
}
