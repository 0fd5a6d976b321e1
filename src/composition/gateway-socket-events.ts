import type { Logger } from 'pino';
import type { AuthStrategy } from '../auth/auth-strategy.js';
import type { Config } from '../config/config.js';
import type { Engine } from '../engine/engine.js';
import type { SocketListener } from '../realtime/acknowledged-listener.js';
import { createAuthEventListeners } from '../realtime/auth-events.js';
import { createChatEventListeners } from '../realtime/chat-events.js';
import { createHistoryEventListeners } from '../realtime/history-events.js';
import { Publisher } from '../realtime/publisher.js';
import { createRoomEventListeners } from '../realtime/room-events.js';
import { RoomPresence } from '../realtime/room-presence.js';
import { WebhookSender } from '../webhooks/webhook-sender.js';
import { RoomPolicy } from '../rooms/room-policy.js';
import type { GatewayServer } from '../protocol/socket-types.js';
import { TokenExpiryWatch } from '../realtime/token-expiry.js';

/** The gateway's own socket events (auth, history, room and chat events), each built from the parts it uses. */
export function gatewaySocketEvents(config: Config, parts: {
  readonly io: GatewayServer;
  readonly engine: Engine;
  readonly strategy: AuthStrategy;
  readonly expiry: TokenExpiryWatch;
  readonly roomPresence: RoomPresence;
  readonly publisher: Publisher;
  readonly webhookSender: WebhookSender;
  readonly logger: Logger;
}): Record<string, SocketListener> {
  const { io, engine, logger } = parts;
  return {
    ...createAuthEventListeners({ strategy: parts.strategy, expiry: parts.expiry, logger }),
    ...createHistoryEventListeners({ history: engine.history, logger }),
    ...createRoomEventListeners({
      policy: new RoomPolicy(config.publicRooms, config.maxRoomsPerSocket),
      roomPresence: parts.roomPresence,
      joinTokenKeys: config.apiKeys,
      webhookSender: parts.webhookSender,
      tokenWebhooksNeedAllowList: config.nodeEnv === 'production' && config.webhooks.allowedHosts.length === 0,
      logger,
    }),
    ...createChatEventListeners({
      io, publisher: parts.publisher, membership: engine.membership, directMessageScope: config.directMessageScope, logger,
    }),
  };
}
