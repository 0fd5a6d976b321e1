import { createRequire } from 'node:module';
import type { Server } from 'socket.io';

/** The socket.io-parser module, as the `socket.io` package in use loads it (it is socket.io's dependency, not ours). */
type SocketIoParser = Server['_parser'];
type DecodedPacket = { id?: number };

const require = createRequire(import.meta.url);
const upstream = createRequire(require.resolve('socket.io'))('socket.io-parser') as SocketIoParser;

/**
 * Socket.IO's own decoder, that also refuses a packet whose acknowledgement id is not a safe integer (e.g.
 * 400 digits, which upstream decodes as `Infinity` and would acknowledge as `43Infinity`). The refusal is
 * a decoding error, so Socket.IO closes the connection as it does for any other malformed packet (a
 * fractional id, broken JSON): stock clients number their acks from 0 and never send one.
 */
class AckCheckingDecoder extends upstream.Decoder {
  constructor(...args: ConstructorParameters<SocketIoParser['Decoder']>) {
    super(...args);
    // Registered before Socket.IO's own listener, so a bad packet is never dispatched.
    this.on('decoded', refuseUnsafeAckId);
  }
}

/** The `decoded` listener of every decoder (one function for all: a closure each would cost bytes per connection). */
function refuseUnsafeAckId(packet: DecodedPacket): void {
  if (packet.id !== undefined && !Number.isSafeInteger(packet.id)) throw new Error('invalid acknowledgement id');
}

/** The `parser` option of the gateway's Socket.IO server: upstream's encoder, {@link AckCheckingDecoder}. */
export const socketParser = { Encoder: upstream.Encoder, Decoder: AckCheckingDecoder };
