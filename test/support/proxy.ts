import { createServer, connect as tcpConnect, type AddressInfo, type Socket as TcpSocket } from 'node:net';
import { onCleanup } from './cleanup.js';

/**
 * A TCP proxy standing for the load balancer: in front of one node, re-targetable to another, or refusing
 * new connections (`null`). Existing connections keep their node until it closes them (or
 * {@link SwitchProxy.dropConnections} cuts them).
 */
export interface SwitchProxy {
  /** `http://127.0.0.1:{port}` of the proxy itself. */
  readonly url: string;
  /** Sends new connections to `url`'s port from now on; `null` refuses them. */
  pointTo(url: string | null): void;
  /** Destroys every proxied connection (both ends), as a network drop would. */
  dropConnections(): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** Starts a {@link SwitchProxy} on 127.0.0.1 in front of `targetUrl`; it is closed after the current test. */
export async function startProxy(targetUrl: string): Promise<SwitchProxy> {
  let target: number | null = Number(new URL(targetUrl).port);
  const open = new Set<TcpSocket>();
  const server = createServer((incoming) => {
    if (target === null) {
      incoming.destroy();
      return;
    }
    const outgoing = tcpConnect({ host: '127.0.0.1', port: target });
    open.add(incoming);
    open.add(outgoing);
    const end = () => {
      incoming.destroy();
      outgoing.destroy();
      open.delete(incoming);
      open.delete(outgoing);
    };
    for (const side of [incoming, outgoing]) {
      side.on('error', end);
      side.on('close', end);
    }
    incoming.pipe(outgoing);
    outgoing.pipe(incoming);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: SwitchProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pointTo(url) {
      target = url === null ? null : Number(new URL(url).port);
    },
    dropConnections() {
      for (const socket of open) socket.destroy();
      open.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.dropConnections();
        server.close(() => resolve());
      }),
  };
  onCleanup(proxy.close);
  return proxy;
}
