import { GatewayError } from '../protocol/errors.js';
import type { GatewayServer } from '../protocol/socket-types.js';

/**
 * How long a cluster-wide lookup waits for the other nodes' answers (the adapter's request timeout; the
 * pub/sub adapter, which ignores it, has its own of 5 s).
 */
export const LOOKUP_TIMEOUT_MS = 2000;

/** A socket of the main namespace as a lookup finds it, on this node or another. */
export interface FoundSocket {
  readonly id: string;
  readonly rooms: ReadonlySet<string>;
}

/**
 * The sockets of the main namespace in `room`, on every node: asked through the adapter (`fetchSockets`),
 * bounded by {@link LOOKUP_TIMEOUT_MS}. A node that does not answer in time makes it `ENGINE_UNAVAILABLE`
 * (transient) rather than a wrong "nobody there".
 */
export async function socketsIn(io: GatewayServer, room: string): Promise<FoundSocket[]> {
  try {
    return await io.in(room).timeout(LOOKUP_TIMEOUT_MS).fetchSockets();
  } catch {
    throw new GatewayError('ENGINE_UNAVAILABLE', 'The other nodes did not answer in time; retry');
  }
}

/**
 * The socket `socketId` of the main namespace, wherever it is connected, or `undefined`: this node's own
 * sockets first (no round trip), else {@link socketsIn} the room named by the id, which holds exactly that
 * socket on every node (no client can join a room shaped like a socket id).
 */
export async function findSocket(io: GatewayServer, socketId: string): Promise<FoundSocket | undefined> {
  const local = io.of('/').sockets.get(socketId);
  if (local !== undefined) return local;
  const [found] = await socketsIn(io, socketId);
  return found;
}
