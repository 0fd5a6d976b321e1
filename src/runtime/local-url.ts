/**
 * The base URL this machine reaches a listener at: `http://host:port`, with `127.0.0.1` for a wildcard
 * address (`0.0.0.0`, `::`) and brackets around an IPv6 one. What `listen()` answers and the logs show.
 */
export function localUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
