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
import { adminGuard } from './admin-guard.js';
import { arrivalOf, countRefusedPublishes } from '../publish-surface.js';

/** A client id: URL-safe characters only, so it is exactly the namespace name's segment. */
const ClientId = Type.String({ pattern: CLIENT_ID_PATTERN });

const AddClientBody = Type.Object({
  clientId: ClientId,
  payload: Type.Optional(Type.Object({
    id: Type.Optional(Type.String()),
    name: Type.Optional(Type.String({ maxLength: 512 })),
    subscriptions: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100 })),
  })),
});
const ClientQuery = Type.Object({ id: ClientId });
const EventBody = Type.Object({ clientId: ClientId, eventName: Type.String({ minLength: 1, maxLength: 200 }) });
const EventQuery = Type.Object({ clientId: ClientId, eventName: Type.String({ minLength: 1, maxLength: 200 }) });
const TransactionBody = Type.Object({ clientId: ClientId, payload: Type.Optional(Type.Unknown()) });

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

  app.post<{ Body: Static<typeof AddClientBody> }>('/client', { schema: { body: AddClientBody } }, async (request) => {
    const subscriptions = [...new Set(request.body.payload?.subscriptions ?? [])];
    for (const event of subscriptions) assertKnownEvent(event);
    const record: ClientRecord = { clientId: request.body.clientId, name: request.body.payload?.name, subscriptions };
    await registry.put(record);
    return record;
  });

  app.delete<{ Querystring: Static<typeof ClientQuery> }>('/client', { schema: { querystring: ClientQuery } }, async (request) => {
    if (!(await registry.remove(request.query.id))) throw new GatewayError('UNKNOWN_CLIENT', `No client "${request.query.id}" is registered`);
    disconnect(clientNamespaces(request.query.id, [...known]));
    return { removed: request.query.id };
  });

  app.post<{ Body: Static<typeof EventBody> }>('/event', { schema: { body: EventBody } }, async (request) => {
    assertKnownEvent(request.body.eventName);
    const record = await registry.subscribe(request.body.clientId, request.body.eventName);
    if (record === undefined) throw new GatewayError('UNKNOWN_CLIENT', `No client "${request.body.clientId}" is registered`);
    return record;
  });

  app.delete<{ Querystring: Static<typeof EventQuery> }>('/event', { schema: { querystring: EventQuery } }, async (request) => {
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
    app.post<{ Body: Static<typeof TransactionBody> }>(`/${event}`, { schema: { body: TransactionBody }, onError }, async (request, reply) => {
      const { clientId, payload } = request.body;
      const client = await registry.get(clientId);
      if (client === undefined) throw new GatewayError('UNKNOWN_CLIENT', `No client "${clientId}" is registered`);
      if (!client.subscriptions.includes(event)) return { delivered: false, reason: `client "${clientId}" does not subscribe to "${event}"` };
      const { id } = await publisher.publish('transactions', event, payload, namespaceTarget(clientNamespaces(clientId, [event])), arrivalOf(reply));
      return { delivered: true, id };
    });
  }
}
