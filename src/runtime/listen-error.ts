/**
 * A person's explanation of why a listener could not open (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`): which
 * port or address, the variable that chose it, and what to do. `ports` names the variables of the node's
 * listeners with their values (`{ PORT: 3000, AUTH_PORT: 4000 }`). `undefined` for any other error.
 */
export function listenErrorHint(error: unknown, ports: Readonly<Record<string, number | undefined>>): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, port, address } = error as NodeJS.ErrnoException & { port?: unknown; address?: unknown };
  if (typeof port !== 'number') return undefined;
  const variables = Object.entries(ports).filter(([, value]) => value === port).map(([name]) => name);
  const variable = variables[0] ?? 'PORT';
  const setting = `${variables.length === 0 ? variable : variables.join(' and ')}=${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `port ${port} is already in use (${setting}${typeof address === 'string' ? `, on ${address}` : ''}): another Switchboard or another ` +
        `program listens there. Stop it (\`ss -ltnp 'sport = :${port}'\` names it), or choose a free port: ${variable}=${port + 1} npm start`;
    case 'EACCES':
      return `port ${port} (${setting}) needs privileges this process lacks (ports below 1024 need root or CAP_NET_BIND_SERVICE): ` +
        `choose a port above 1023, e.g. ${variable}=3000, and put a proxy in front`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${typeof address === 'string' ? address : 'HOST'} (HOST): it is not an address of this machine; ` +
        'use 0.0.0.0 (every interface) or 127.0.0.1 (this machine only)';
    default:
      return undefined;
  }
}
