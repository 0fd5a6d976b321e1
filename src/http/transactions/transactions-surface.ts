import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ApiKeyVerifier } from '../../auth/api-key-verifier.js';
import type { AuthStrategy } from '../../auth/auth-strategy.js';
import type { Config } from '../../config/config.js';
import { GatewayError } from '../../protocol/errors.js';
import { namespaceTarget } from '../../protocol/publication.js';
import type { Publisher } from '../../realtime/publisher.js';
import type { ClientRecord, ClientRegistry } from '../../stores/client-registry.js';
import { CLIENT_ID_PATTERN, clientNamespaces, type DisconnectNamespaces } from './client-namespaces.js';
import { ADMIN_GUARD_REFUSALS, adminGuard } from './admin-guard.js';
import { describeRoutes } from '../api-docs/refusals.js';
import { TAGS } from '../api-docs/tags.js';
import { ADMIN_SECURITY } from '../api-docs/security-schemes.js';
import { withExamples } from '../../protocol/validation.js';
import { arrivalOf, countRefusedPublishes } from '../publish-surface.js';

/** A client id: URL-safe characters only, so it is exactly the namespace name's segment. */
const ClientId = Type.String({ pattern: CLIENT_ID_PATTERN });
const EventName = Type.String({ minLength: 1, maxLength: 200 });

const AddClientBody = Type.Object({
  clientId: ClientId,
  payload: Type.Optional(Type.Object({
    id: Type.Optional(Type.String()),
    name: Type.Optional(Type.String({ maxLength: 512 })),
    subscriptions: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100 })),
  })),
}, { examples: [{ clientId: 'xyz', payload: { name: 'Shop XYZ', subscriptions: ['completed', 'cancelled'] } }] });
const ClientQuery = Type.Object({ id: withExamples(ClientId, 'xyz') });
const EventBody = Type.Object({ clientId: ClientId, eventName: EventName }, { examples: [{ clientId: 'xyz', eventName: 'denied' }] });
const EventQuery = Type.Object({ clientId: withExamples(ClientId, 'xyz'), eventName: withExamples(EventName, 'denied') });
const TransactionBody = Type.Object({ clientId: ClientId, payload: Type.Optional(Type.Unknown()) }, { examples: [{ clientId: 'xyz', payload: { orderId: 9 } }] });

const ClientAnswer = Type.Object({
  clientId: Type.String(),
  name: Type.Optional(Type.String()),
  subscriptions: Type.Array(Type.String(), { description: 'The transaction events the client subscribes to' }),
}, { description: 'The client as registered now' });
const TransactionAnswer = Type.Union([
  Type.Object({ delivered: Type.Literal(true), id: Type.String() }),
  Type.Object({ delivered: Type.Literal(false), reason: Type.String() }),
], { description: 'Sent to the client\'s namespaces, or not (the client does not subscribe to the event)' });

/** What seed 000's routes need: the admin credentials they accept, the client registry, TRANSACTION_EVENTS, the publisher, and a way to drop namespace sockets. */
export interface TransactionsOptions extends Pick<Config, 'transactionEvents'> {
  readonly apiKeys: ApiKeyVerifier;
  /** The strategy admin JWTs are checked with (the clients' own). */
  readonly adminTokens: AuthStrategy;
  readonly registry: ClientRegistry;
  readonly publisher: Publisher;
  readonly disconnect: DisconnectNamespaces;
}

/**
 * Seed 000, as it documents it: the client registry (`POST /client`, `DELETE /client?id=`, `POST /event`,
 * `DELETE /event?clientId=&eventName=`) and the transaction events (`POST /completed`, `/cancelled`,
 * `/denied`, `/declined`), which reach the client's namespaces `/{clientId}` and `/{clientId}/{event}` on
 * every node. Protected by an admin JWT or an API key.
 */
export async function transactionsSurface(app: FastifyInstance, options: TransactionsOptions): Promise<void> {
  const { registry, publisher, disconnect } = options;
  const known = new Set(options.transactionEvents);
  const assertKnownEvent = (event: string) => {
    if (!known.has(event)) {
      throw new GatewayError('INVALID_BODY', `"${event}" is not a transaction event; known: ${[...known].join(', ')}`, { details: { field: 'eventName', allowed: [...known] } });
    }
  };
  app.addHook('onRequest', adminGuard(options.apiKeys, options.adminTokens));
  describeRoutes(app, { tag: TAGS.transactions.name, security: ADMIN_SECURITY, refusals: ADMIN_GUARD_REFUSALS });
  const eventList = `one of TRANSACTION_EVENTS (${[...known].join(', ')})`;

  app.post<{ Body: Static<typeof AddClientBody> }>('/client', {
    schema: {
      summary: 'Register (or replace) a client',
      description: `Its \`subscriptions\` are each ${eventList}. Sockets connect to \`/{clientId}\` or \`/{clientId}/{event}\`.`,
      body: AddClientBody,
      response: { 200: ClientAnswer },
    },
    config: { refusals: ['ENGINE_UNAVAILABLE'] },
  }, async (request) => {
    const subscriptions = [...new Set(request.body.payload?.subscriptions ?? [])];
    for (const event of subscriptions) assertKnownEvent(event);
    const record: ClientRecord = { clientId: request.body.clientId, name: request.body.payload?.name, subscriptions };
    await registry.put(record);
    return record;
  });

  app.delete<{ Querystring: Static<typeof ClientQuery> }>('/client', {
    schema: {
      summary: 'Remove a client',
      description: 'Disconnects the sockets of all its namespaces.',
      querystring: ClientQuery,
      response: { 200: Type.Object({ removed: Type.String() }, { description: 'Removed' }) },
    },
    config: { refusals: ['UNKNOWN_CLIENT', 'ENGINE_UNAVAILABLE'] },
  }, async (request) => {
    if (!(await registry.remove(request.query.id))) throw new GatewayError('UNKNOWN_CLIENT', `No client "${request.query.id}" is registered`);
    disconnect(clientNamespaces(request.query.id, [...known]));
    return { removed: request.query.id };
  });

  app.post<{ Body: Static<typeof EventBody> }>('/event', {
    schema: { summary: 'Subscribe a client to a transaction event', description: `\`eventName\` is ${eventList}.`, body: EventBody, response: { 200: ClientAnswer } },
    config: { refusals: ['UNKNOWN_CLIENT', 'ENGINE_UNAVAILABLE'] },
  }, async (request) => {
    assertKnownEvent(request.body.eventName);
    const record = await registry.subscribe(request.body.clientId, request.body.eventName);
    if (record === undefined) throw new GatewayError('UNKNOWN_CLIENT', `No client "${request.body.clientId}" is registered`);
    return record;
  });

  app.delete<{ Querystring: Static<typeof EventQuery> }>('/event', {
    schema: {
      summary: 'Unsubscribe a client from a transaction event',
      description: 'Disconnects the sockets of `/{clientId}/{eventName}`.',
      querystring: EventQuery,
      response: { 200: ClientAnswer },
    },
    config: { refusals: ['UNKNOWN_CLIENT', 'ENGINE_UNAVAILABLE'] },
  }, async (request) => {
    const { clientId, eventName } = request.query;
    assertKnownEvent(eventName);
    const record = await registry.unsubscribe(clientId, eventName);
    if (record === undefined) throw new GatewayError('UNKNOWN_CLIENT', `No client "${clientId}" is registered`);
    disconnect([`/${clientId}/${eventName}`]);
    return record;
  });

  // One route per TRANSACTION_EVENTS name, emitting that name (`/denied` → `denied`, `/declined` → `declined`).
  const onError = countRefusedPublishes(publisher, 'transactions');
  for (const event of known) {
    app.post<{ Body: Static<typeof TransactionBody> }>(`/${event}`, {
      schema: {
        summary: `Send the transaction event "${event}" to a client`,
        description: `\`payload\` reaches the sockets of \`/{clientId}\` and \`/{clientId}/${event}\`, on every node, as the event \`${event}\`.`,
        body: TransactionBody,
        response: { 200: TransactionAnswer },
      },
      onError,
      config: { refusals: ['UNKNOWN_CLIENT', 'EVENT_RESERVED', 'ENGINE_UNAVAILABLE'] },
    }, async (request, reply) => {
      const { clientId, payload } = request.body;
      const client = await registry.get(clientId);
      if (client === undefined) throw new GatewayError('UNKNOWN_CLIENT', `No client "${clientId}" is registered`);
      if (!client.subscriptions.includes(event)) return { delivered: false, reason: `client "${clientId}" does not subscribe to "${event}"` };
      const { id } = await publisher.publish('transactions', event, payload, namespaceTarget(clientNamespaces(clientId, [event])), arrivalOf(reply));
      return { delivered: true, id };
    });
  }
}
