import type { GatewayError } from '../protocol/errors.js';
import type { GatewayServer } from '../protocol/socket-types.js';
import { toConnectError } from './handshake-refusals.js';

/** Socket.IO's CONNECT_ERROR packet type (socket.io-parser `PacketType.CONNECT_ERROR`). */
const CONNECT_ERROR_PACKET = 4;

type Packet = Parameters<GatewayServer['encoder']['encode']>[0];

/** What a namespace matcher decides: `next(null, true)` creates the namespace, `next(null, false)` refuses. */
export type NamespaceDecision = (err: Error | null, allow: boolean) => void;

/** The refusal being answered right now (set only while {@link refuseNamespace} runs Socket.IO's refusal). */
let answering: GatewayError | undefined;

/**
 * Refuses a connection from a namespace matcher (`io.of((name, auth, next) => …)`) before any namespace
 * exists, with a catalog code: the client's `connect_error` carries `err.data = { code, message }`, as
 * a middleware refusal's does, instead of Socket.IO's bare "Invalid namespace". Socket.IO answers the
 * refusal in the same call, so the error is only held for its duration (see {@link explainNamespaceRefusals}).
 */
export function refuseNamespace(next: NamespaceDecision, error: GatewayError): void {
  answering = error;
  try {
    next(null, false);
  } finally {
    answering = undefined;
  }
}

/**
 * Makes the server's encoder put the catalog error of {@link refuseNamespace} into the CONNECT_ERROR
 * packet Socket.IO sends for a refused namespace. Every other packet is encoded as before.
 */
export function explainNamespaceRefusals(io: GatewayServer): void {
  const { encoder } = io;
  const encode = encoder.encode.bind(encoder);
  encoder.encode = (packet: Packet) => {
    if (answering === undefined || packet.type !== CONNECT_ERROR_PACKET) return encode(packet);
    const error = toConnectError(answering);
    return encode({ ...packet, data: { message: error.message, data: error.data } });
  };
}
