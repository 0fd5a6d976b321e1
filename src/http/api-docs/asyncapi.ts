import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorAnswerSchema } from '../../protocol/error-schema.js';
import {
  CLIENT_EVENT_CATALOG, CONNECT_ERROR, PUBLICATION, RELAYED_CLIENT_EVENT, RELAYED_EVENT, SERVER_EVENT_CATALOG,
  type ClientEventDescription, type ServerEventDescription,
} from '../../protocol/event-catalog.js';
import { GATEWAY_EVENTS } from '../../protocol/events.js';
import { API_DOCS_PATHS, packageVersion } from './openapi.js';
import { TAGS } from './tags.js';
import { ERROR_COMPONENT } from './refusals.js';
import { PUBLIC } from './security-schemes.js';

/** What the socket side serves, as the composition root knows it. */
export interface AsyncApiOptions {
  /** The events the dispatcher serves: its listener table's names, each described in CLIENT_EVENT_CATALOG. */
  readonly clientEvents: readonly string[];
  /** CLIENT_EVENTS: patterns of the client events relayed to rooms; empty = none. */
  readonly relayedPatterns: readonly string[];
  /** TRANSACTION_EVENTS while seed 000's namespaces are served; `undefined` = off. */
  readonly transactionEvents: readonly string[] | undefined;
}

type Json = Record<string, unknown>;

/** A component id (AsyncAPI allows `[A-Za-z0-9._-]`): `room/join-room` → `room.join-room`. */
const idOf = (event: string) => event.replace(/[^A-Za-z0-9._-]/g, '.');
/** JSON Pointer escaping of one reference token. */
const pointer = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The AsyncAPI 3.0 document of the socket events (API_DOCS): one channel per namespace, a `receive`
 * operation per event clients send (its payload schema is the handler's, its `reply` the ack or the
 * refusal, on the same channel: Socket.IO acks) and a `send` operation per event the gateway emits. Socket.IO
 * events may carry several arguments: a message's `payload` is the first, and `x-socket-io-arguments`
 * lists them all when there are more. Built once; throws when the dispatcher serves an event the catalog
 * does not describe.
 */
export function asyncApiDocument(options: AsyncApiOptions): Json {
  const messages: Json = {};
  const channelMessages: Json = {};
  const operations: Json = {};
  const main = { $ref: '#/channels/main' };
  const add = (id: string, message: Json) => {
    if (id in messages) throw new Error(`two socket messages are named ${id}`);
    messages[id] = message;
    channelMessages[id] = { $ref: `#/components/messages/${pointer(id)}` };
    return { $ref: `#/channels/main/messages/${pointer(id)}` };
  };
  const receive = (event: string, description: ClientEventDescription, name = event) => {
    const id = idOf(event);
    const request = add(id, { name, summary: description.summary, payload: description.payload, examples: [{ payload: description.example }] });
    const ack = add(`${id}.ack`, { name: `${name} ack`, summary: `The ack of ${name}`, payload: description.ack });
    const refusal = add(`${id}.refusal`, { name: `${name} refusal`, summary: `The ack of ${name} when it is refused`, payload: schemaOrErrorRef(description.refusal) });
    const answers = [description.replyEvent === undefined ? '' : `without an ack the answer is emitted as \`${description.replyEvent}\``,
      description.errorEvent === undefined ? '' : `without an ack a refusal is emitted as \`${description.errorEvent}\``].filter(Boolean);
    operations[`receive.${id}`] = {
      action: 'receive', channel: main, summary: description.summary, messages: [request], reply: { channel: main, messages: [ack, refusal] },
      ...(answers.length > 0 ? { description: `${answers.join('; ')}.` } : {}),
    };
  };
  const send = (event: string, description: ServerEventDescription) => {
    const id = idOf(event);
    operations[`send.${id}`] = { action: 'send', channel: main, summary: description.summary, messages: [add(`${id}`, serverMessage(event, description))] };
  };

  for (const event of options.clientEvents) {
    const description = CLIENT_EVENT_CATALOG[event];
    if (description === undefined) throw new Error(`the socket event "${event}" is served but not described in src/protocol/event-catalog.ts`);
    receive(event, description);
  }
  if (options.relayedPatterns.length > 0) {
    receive('client-event', { ...RELAYED_CLIENT_EVENT, summary: `${RELAYED_CLIENT_EVENT.summary}: ${options.relayedPatterns.join(', ')}` }, '{clientEvent}');
  }
  for (const event of GATEWAY_EVENTS) send(event, SERVER_EVENT_CATALOG[event]!);
  send('publication', PUBLICATION);
  if (options.relayedPatterns.length > 0) send('client-event.relayed', RELAYED_EVENT);
  send('connect_error', CONNECT_ERROR);

  const channels: Json = {
    main: {
      address: '/',
      title: 'The main namespace',
      description: 'Where clients connect (`io(url, { auth: { token } })`), join rooms and receive publications.',
      messages: channelMessages,
    },
  };
  if (options.transactionEvents !== undefined) addTransactionNamespaces(channels, operations, messages, options.transactionEvents);
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Switchboard socket events',
      version: packageVersion(),
      description: 'The Socket.IO 4 events of the gateway, generated from the schemas its handlers validate with. '
        + '`receive` operations are events clients send (with an ack: its reply); `send` operations are events the gateway emits. '
        + 'Every refusal is the catalog\'s `{ error: { code, message, details?, retryAfterS? } }` (seed 004\'s room events add their own fields beside it). '
        + 'While connection-state recovery is on (RECOVERY_WINDOW_MS), Socket.IO appends its recovery offset (a string) as a last argument to the events sent to rooms.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: {
      messages,
      schemas: { [ERROR_COMPONENT]: ErrorAnswerSchema },
      securitySchemes: {
        clientToken: {
          type: 'http', scheme: 'bearer', bearerFormat: 'JWT',
          description: 'The client token, in the handshake\'s `auth.token` (or `auth.Authorization`, an `Authorization: Bearer` header, or `?token=` with ALLOW_QUERY_TOKEN); a refusal is `connect_error` with `err.data.code`.',
        },
      },
    },
  };
}

/** A server event's message: its first argument as the payload, and every argument when there are several. */
function serverMessage(event: string, { summary, args }: ServerEventDescription): Json {
  const [first] = args;
  return {
    name: event === 'publication' ? '{event}' : event === 'client-event.relayed' ? '{clientEvent}' : event,
    summary,
    ...(first === undefined ? {} : { payload: schemaOrErrorRef(first) }),
    ...(args.length > 1 ? { 'x-socket-io-arguments': args.map(schemaOrErrorRef) } : {}),
  };
}

/** The shared error component where the schema is the catalog's error answer (as in the OpenAPI document). */
function schemaOrErrorRef(schema: TSchema): TSchema | Json {
  return schema === ErrorAnswerSchema ? { $ref: `#/components/schemas/${ERROR_COMPONENT}` } : schema;
}

/** Seed 000's client namespaces, where the transaction events arrive. */
function addTransactionNamespaces(channels: Json, operations: Json, messages: Json, events: readonly string[]): void {
  const clientId = { description: 'A client registered with POST /client' };
  const message = (event: string) => `transaction.${idOf(event)}`;
  for (const event of events) {
    messages[message(event)] = {
      name: event,
      summary: `The transaction event "${event}" (POST /${event}): its payload, then { id }`,
      payload: PUBLICATION.args[0],
      'x-socket-io-arguments': PUBLICATION.args,
    };
  }
  const refs = (names: readonly string[]) => Object.fromEntries(names.map((event) => [message(event), { $ref: `#/components/messages/${message(event)}` }]));
  channels.clientNamespace = {
    address: '/{clientId}', title: 'A client\'s namespace (seed 000)',
    description: 'Every transaction event the client subscribes to. Needs a token whose clientId claim is this client, or the admin role.',
    parameters: { clientId }, messages: refs(events),
  };
  for (const event of events) {
    const channel = `client.${idOf(event)}`;
    channels[channel] = {
      address: `/{clientId}/${event}`, title: `A client's "${event}" namespace (seed 000)`, parameters: { clientId }, messages: refs([event]),
    };
    operations[`send.transaction.${idOf(event)}`] = {
      action: 'send', channel: { $ref: '#/channels/clientNamespace' }, summary: `The transaction event "${event}"`,
      messages: [{ $ref: `#/channels/clientNamespace/messages/${message(event)}` }],
    };
    operations[`send.transaction.${idOf(event)}.own`] = {
      action: 'send', channel: { $ref: `#/channels/${channel}` }, summary: `The transaction event "${event}", on its own namespace`,
      messages: [{ $ref: `#/channels/${channel}/messages/${message(event)}` }],
    };
  }
}

/** `GET /asyncapi.json`: the document, with the server the request reached. */
export async function asyncApiRoutes(app: FastifyInstance, options: AsyncApiOptions): Promise<void> {
  const document = asyncApiDocument(options);
  app.get(API_DOCS_PATHS.asyncapi, {
    schema: {
      summary: 'The AsyncAPI 3 document of the socket events',
      tags: [TAGS.documentation.name],
      security: PUBLIC,
      response: { 200: { type: 'object', properties: { asyncapi: { const: '3.0.0' } }, description: 'The AsyncAPI document' } },
    },
  }, async (request) => ({ ...document, servers: { gateway: serverOf(request) } }));
}

function serverOf(request: FastifyRequest): Json {
  return {
    host: request.host,
    protocol: request.protocol === 'https' ? 'wss' : 'ws',
    pathname: '/socket.io/',
    description: 'Socket.IO 4 (Engine.IO 4) over WebSocket or HTTP long-polling: connect with a stock socket.io-client',
    security: [{ $ref: '#/components/securitySchemes/clientToken' }],
  };
}
