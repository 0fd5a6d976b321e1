import type { IncomingMessage } from 'node:http';
import { BlockList, isIPv6 } from 'node:net';

/** TRUST_PROXY as the config holds it: none (`false`), any (`true`), a hop count, or proxy addresses/CIDRs. */
export type TrustProxy = boolean | number | readonly string[];

/** The client address of a request, as every per-address limit counts it. */
export type ClientAddressOf = (request: IncomingMessage) => string;

/** Fastify's (proxy-addr's) names for address ranges, accepted in a TRUST_PROXY list. */
const NAMED_RANGES: Record<string, readonly string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/**
 * Builds the one function that names the client address of a request for every limit (handshake rate,
 * connection caps, pending sessions, HTTP rate limit). Without TRUST_PROXY it is the TCP peer's address.
 * With it, `X-Forwarded-For` is walked from the nearest hop outwards while the hop it came through is
 * trusted — the same rule as Fastify's `request.ip` (proxy-addr): a hop count trusts that many proxies,
 * a list trusts those addresses and CIDRs (and `loopback`, `linklocal`, `uniquelocal`). IPv4-mapped IPv6
 * addresses (`::ffff:10.0.0.1`) are written as IPv4.
 */
export function clientAddressResolver(trustProxy: TrustProxy): ClientAddressOf {
  const trusts = trustRule(trustProxy);
  if (trusts === undefined) return (request) => plainAddress(request.socket.remoteAddress ?? '');
  return (request) => {
    let address = plainAddress(request.socket.remoteAddress ?? '');
    const forwarded = forwardedHops(request.headers['x-forwarded-for']);
    for (let hop = 0; hop < forwarded.length && trusts(address, hop); hop += 1) address = plainAddress(forwarded[hop]!);
    return address;
  };
}

/** The `X-Forwarded-For` addresses, nearest hop first. */
function forwardedHops(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const joined = Array.isArray(header) ? header.join(',') : header;
  return joined.split(',').map((part) => part.trim()).filter((part) => part.length > 0).reverse();
}

/** Whether the hop at `address`, `hop` proxies from the node, is trusted to report the next one; `undefined` = none is. */
function trustRule(trustProxy: TrustProxy): ((address: string, hop: number) => boolean) | undefined {
  if (trustProxy === false || trustProxy === 0) return undefined;
  if (trustProxy === true) return () => true;
  if (typeof trustProxy === 'number') return (_address, hop) => hop < trustProxy;
  const trusted = new BlockList();
  for (const entry of trustProxy.flatMap((item) => NAMED_RANGES[item] ?? [item])) {
    const [network = '', prefix] = entry.split('/');
    const family = isIPv6(network) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) trusted.addAddress(network, family);
    else trusted.addSubnet(network, Number(prefix), family);
  }
  return (address) => trusted.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
}

function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
