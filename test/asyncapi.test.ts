import { LogSampler } from '../src/runtime/log-sampler.js';
import type { TSchema } from '@sinclair/typebox';
import { Server } from 'socket.io';
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { createAuthStrategy } from '../src/auth/create-auth-strategy.js';
import { gatewaySocketEvents } from '../src/composition/gateway-socket-events.js';
import { openSharedState } from '../src/composition/shared-state.js';
import { loadConfig } from '../src/config/load-config.js';
import { ErrorAnswerSchema } from '../src/protocol/error-schema.js';
import { GATEWAY_EVENTS } from '../src/protocol/events.js';
import {
  ClientRoomEvent, DirectMessage, DirectMessageRequest, GrantInRequest, HistoryRequest, JoinToken, NoPayload, RefreshRequest, RoomMessage, RoomRequest,
  RoomsRequest, SocketDirectMessage,
} from '../src/protocol/socket-schemas.js';
import { Publisher } from '../src/realtime/publisher.js';
import { RoomPresence } from '../src/realtime/room-presence.js';
import { TokenExpiryWatch } from '../src/realtime/token-expiry.js';
import { createLogger } from '../src/runtime/logger.js';
import { WebhookSender } from '../src/webhooks/webhook-sender.js';
import { asyncApiProblems, documentValidator, objectAt, pointerTo, strictSchemaProblems, type Json } from './support/api-documents.js';
import { onCleanup } from './support/cleanup.js';
import { TEST_API_KEY, TEST_JWT_SECRET, api, nextEvent, openClient, signToken, startGateway } from './support/gateway.js';
import { freshDir } from './support/temp.js';
import { waitFor } from './support/wait.js';

/** Client events relayed to rooms, and seed 000's namespaces: every part of the document is there. */
const ENV = { CLIENT_EVENTS: 'typing' };

/**
 * The dispatcher's table of a gateway with `env`: the listeners the composition root hands the dispatcher
 * (src/realtime/socket-events.ts), built from real parts as src/gateway.ts builds them.
 */
function dispatcherTable(env: Record<string, string>): string[] {
  const config = loadConfig({ NODE_ENV: 'test', API_KEYS: TEST_API_KEY, JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: freshDir('data'), ...env });
  const logger = createLogger('silent');
  const io = new Server();
  const shared = openSharedState(config, 'table', logger, undefined, undefined);
  const webhookSender = new WebhookSender({}, logger);
  const roomPresence = new RoomPresence(io, shared.engine.membership, undefined, config.recoveryWindowMs, logger);
  onCleanup(async () => {
    await roomPresence.close();
    await webhookSender.close();
    await shared.close();
  });
  const listeners = gatewaySocketEvents(config, {
    io, engine: shared.engine, strategy: createAuthStrategy(config, logger, new LogSampler({ intervalMs: 60_000 })), expiry: new TokenExpiryWatch(1000), roomPresence,
    publisher: new Publisher(io, shared.engine, undefined), webhookSender, logger,
  });
  return Object.keys(listeners);
}

/** The schema each handler checks its payload with (what src/realtime/*-events.ts read it with). */
const VALIDATED_WITH: Record<string, TSchema> = {
  'auth:refresh': RefreshRequest,
  history: HistoryRequest,
  'room/join-room': RoomRequest,
  'room/join-rooms': RoomsRequest,
  'room/leave-room': RoomRequest,
  'join-room': RoomRequest,
  'join-rooms': RoomsRequest,
  'leave-room': RoomRequest,
  join: JoinToken,
  leave: RoomRequest,
  grantIn: GrantInRequest,
  'single-chat/send-message': DirectMessageRequest,
  'room/send-message': RoomMessage,
  'room/members': RoomRequest,
  rooms: NoPayload,
  'client-event': ClientRoomEvent,
};

const json = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema));

interface Described {
  readonly operation: string;
  readonly message: Json;
  readonly messagePointer: string;
  readonly reply: string[];
}

/** The `receive` (client → server) or `send` operations of the document, with their message. */
function operations(document: Json, action: 'receive' | 'send'): Described[] {
  return Object.entries(objectAt(document, 'operations')).filter(([, operation]) => (operation as Json).action === action).map(([operation, value]) => {
    const { messages, reply } = value as { messages: { $ref: string }[]; reply?: { messages: { $ref: string }[] } };
    const id = messages[0]!.$ref.split('/').at(-1)!.replace(/~1/g, '/').replace(/~0/g, '~');
    return {
      operation,
      message: objectAt(document, 'components', 'messages', id),
      messagePointer: pointerTo('components', 'messages', id),
      reply: (reply?.messages ?? []).map(({ $ref }) => pointerTo('components', 'messages', $ref.split('/').at(-1)!)),
    };
  });
}

async function getDocument(url: string): Promise<Json> {
  const response = await fetch(`${url}/asyncapi.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

describe('the AsyncAPI document (/asyncapi.json)', () => {
  it('describes every event of the dispatcher\'s table with the schema its handler validates with', async () => {
    const { url } = await startGateway(ENV);
    const document = await getDocument(url);
    const received = operations(document, 'receive');
    const table = dispatcherTable(ENV);
    expect(table.length).toBeGreaterThan(10);
    expect(received.map(({ message }) => message.name)).toEqual([...table, '{clientEvent}']);
    for (const { message } of received) {
      const event = message.name === '{clientEvent}' ? 'client-event' : String(message.name);
      expect([event, message.payload]).toEqual([event, json(VALIDATED_WITH[event])]);
    }
    // single-chat/send-message is either of the two schemas its handler picks between.
    expect(json(DirectMessageRequest)).toEqual({ anyOf: [json(SocketDirectMessage), json(DirectMessage)] });
    // Every event the gateway itself sends, publications, relayed client events and connect_error.
    const sent = operations(document, 'send').map(({ message }) => message.name);
    expect(sent).toEqual(expect.arrayContaining([...GATEWAY_EVENTS, '{event}', '{clientEvent}', 'connect_error', 'completed']));
    // The refusals reference the one error component, as in the OpenAPI document.
    expect(objectAt(document, 'components', 'schemas', 'Error')).toEqual(json(ErrorAnswerSchema));
    expect(objectAt(document, 'components', 'messages', 'history.refusal').payload).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it('is a valid AsyncAPI 3.0 document whose payload schemas compile', async () => {
    const { url } = await startGateway(ENV);
    const document = await getDocument(url);
    expect(asyncApiProblems(document)).toEqual([]);
    const payloads = Object.keys(objectAt(document, 'components', 'messages'))
      .filter((id) => 'payload' in objectAt(document, 'components', 'messages', id))
      .map((id) => pointerTo('components', 'messages', id, 'payload'));
    expect(payloads.length).toBeGreaterThan(40);
    expect(strictSchemaProblems(document, payloads, 'draft-07')).toEqual([]);
    expect(objectAt(document, 'servers', 'gateway')).toMatchObject({ host: new URL(url).host, protocol: 'ws', pathname: '/socket.io/' });
    // The checks can fail.
    const broken = structuredClone(document);
    objectAt(broken, 'operations', 'receive.history').action = 'get';
    objectAt(broken, 'operations', 'send.auth.logout').messages = [{ $ref: '#/components/messages/auth.logout' }];
    expect(asyncApiProblems(broken)).toEqual([
      'operation receive.history: action get',
      'operation send.auth.logout: message #/components/messages/auth.logout is not one of #/channels/main\'s',
    ]);
  });

  it('matches what a socket meets: each example is served and acked as documented, each event arrives as documented', async () => {
    const { url } = await startGateway(ENV);
    const document = await getDocument(url);
    const validate = documentValidator(document, 'draft-07');
    const received = operations(document, 'receive');
    const byName = new Map(operations(document, 'send').map((described) => [String(described.message.name), described]));
    const arrivals: { socket: string; event: string; args: unknown[] }[] = [];
    const connect = async (userId: string) => {
      const socket = openClient(url, { auth: { token: await signToken({ user_id: userId, roles: ['editor'] }) } });
      socket.onAny((event: string, ...args: unknown[]) => arrivals.push({ socket: userId, event, args }));
      await nextEvent(socket, 'connect');
      return socket;
    };
    const bob = await connect('bob');
    await bob.emitWithAck('room/join-room', 'chat:lobby');
    const alice = await connect('alice');
    await alice.emitWithAck('room/join-room', 'chat:lobby');

    const problems: string[] = [];
    const outcomes: string[] = [];
    const emit = async (socket: Socket, event: string, payload: unknown) => (await socket.timeout(3000).emitWithAck(event, payload)) as unknown;
    for (const { message, messagePointer, reply } of received) {
      const event = message.name === '{clientEvent}' ? 'typing' : String(message.name);
      const [example] = (message.examples as { payload: unknown }[]);
      problems.push(...validate(`${messagePointer}/payload`, example!.payload).map((p) => `${event} example: ${p}`));
      const answer = await emit(alice, event, example!.payload);
      const [ack, refusal] = reply.map((pointer) => validate(`${pointer}/payload`, answer));
      if (ack!.length > 0 && refusal!.length > 0) problems.push(`${event}: the ack ${JSON.stringify(answer)} is neither documented answer: ${[...ack!, ...refusal!].join('; ')}`);
      const code = String(objectAt(answer, 'error').code);
      if (code === 'INVALID_BODY' || code === 'EVENT_UNKNOWN') problems.push(`${event}: refused ${JSON.stringify(answer)}`);
      outcomes.push(ack!.length === 0 ? `${event} ok` : `${event} ${code}`);
    }
    expect(problems).toEqual([]);
    // Refused only where the example cannot pass as is: a made-up token.
    expect(outcomes.filter((outcome) => !outcome.endsWith(' ok'))).toEqual(['auth:refresh TOKEN_INVALID', 'join JOIN_TOKEN_INVALID']);
    expect(outcomes).toHaveLength(received.length);
    // What is not documented is not served.
    expect(await emit(alice, 'made-up', {})).toMatchObject({ error: { code: 'EVENT_UNKNOWN' } });

    expect((await api(url, '/v1/publish', { body: { event: 'order:shipped', data: { id: 1 }, rooms: ['chat:lobby'] } })).status).toBe(200);
    await waitFor(() => arrivals.some(({ socket, event }) => socket === 'bob' && event === 'order:shipped'), { what: 'the publication at bob' });
    const checked = new Set<string>();
    for (const { socket, event, args } of arrivals) {
      const name = event === 'typing' ? '{clientEvent}' : byName.has(event) ? event : '{event}';
      const described = byName.get(name)!;
      const documented = (described.message['x-socket-io-arguments'] as unknown[] | undefined)?.length ?? ('payload' in described.message ? 1 : 0);
      // Socket.IO appends its connection-state recovery offset to broadcasts (RECOVERY_WINDOW_MS): one string more.
      const extra = args.slice(documented);
      if (extra.length > 1 || (extra.length === 1 && typeof extra[0] !== 'string')) problems.push(`${event} at ${socket}: arguments ${JSON.stringify(args)}`);
      args.slice(0, documented).forEach((arg, index) => {
        const pointer = 'x-socket-io-arguments' in described.message ? `${described.messagePointer}/x-socket-io-arguments/${index}` : `${described.messagePointer}/payload`;
        problems.push(...validate(pointer, arg).map((p) => `${event} at ${socket}, argument ${index}: ${p}`));
      });
      checked.add(name);
    }
    expect(problems).toEqual([]);
    expect([...checked].sort()).toEqual(expect.arrayContaining([
      '{clientEvent}', '{event}', 'joined-room', 'left-room', 'room/joined-room', 'room/receive-message', 'room/user-connected', 'single-chat/receive-message', 'switchboard:ready',
    ]));
  });
});
