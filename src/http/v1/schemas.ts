import { Type, type Static } from '@sinclair/typebox';
import { ErrorAnswerSchema } from '../../protocol/error-schema.js';
import { Name } from '../../protocol/names.js';
import { PublishAnswer } from '../../protocol/answer-schemas.js';
import { withExamples } from '../../protocol/validation.js';

const Names = Type.Array(Name, { maxItems: 10_000 });

/** `POST /v1/publish` and each item of `POST /v1/batch`. */
export const PublishBody = Type.Object(
  {
    // Length and reserved names are checked once, by the publisher, for every surface.
    event: Type.String(),
    data: Type.Optional(Type.Unknown()),
    rooms: Type.Optional(Names),
    users: Type.Optional(Names),
    sessions: Type.Optional(Names),
    except: Type.Optional(Names),
    broadcast: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    examples: [{ event: 'order:shipped', data: { orderId: 42 }, users: ['alice'], except: ['session:tab-7'] }],
  },
);
export type PublishBody = Static<typeof PublishBody>;

export const UserParams = Type.Object({ userId: withExamples(Name, 'alice') });
export type UserParams = Static<typeof UserParams>;

export const DisconnectBody = Type.Union([
  Type.Object({ sessionId: Type.Optional(Name) }, { additionalProperties: false }),
  Type.Null(),
], { examples: [{ sessionId: 'tab-7' }] });
export type DisconnectBody = Static<typeof DisconnectBody>;

export const RoomParams = Type.Object({ room: withExamples(Name, 'chat:lobby') });
export type RoomParams = Static<typeof RoomParams>;

export const RoomsQuery = Type.Object(
  {
    prefix: Type.Optional(Type.String({ maxLength: 512, examples: ['chat:'] })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000, examples: [100] })),
  },
  { additionalProperties: false },
);
export type RoomsQuery = Static<typeof RoomsQuery>;

export const HistoryQuery = Type.Object(
  {
    since: Type.Optional(Type.Integer({ minimum: 0, examples: [0], description: 'the last offset the caller saw' })),
    epoch: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'the epoch that offset belongs to' })),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

export const JoinTokenBody = Type.Object(
  {
    channel: Name,
    data: Type.Optional(Type.Unknown()),
    ttlS: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 86_400 })),
  },
  { additionalProperties: false, examples: [{ channel: 'chat:lobby', data: { name: 'Alice' }, ttlS: 300 }] },
);
export type JoinTokenBody = Static<typeof JoinTokenBody>;

// --- answers ---

/** `POST /v1/batch`, as documented: the body is checked item by item (each item's refusal is its result), so Fastify checks only that it is an array. */
export const DocumentedBatchBody = (maxBatchSize: number) =>
  Type.Array(PublishBody, { maxItems: maxBatchSize, examples: [[{ event: 'a', users: ['alice'] }, { event: 'b', rooms: ['chat:lobby'], data: 1 }]] });

export const BatchAnswer = Type.Object({
  results: Type.Array(Type.Union([PublishAnswer, ErrorAnswerSchema]), { description: 'One per item, in order: its publish result or its refusal' }),
});

const Connection = Type.Object({
  socketId: Type.String(),
  userId: Type.String(),
  sessionId: Type.Optional(Type.String()),
  connectedAt: Type.Integer({ description: 'Unix milliseconds' }),
});

export const UserAnswer = Type.Object({
  userId: Type.String(),
  online: Type.Boolean(),
  connections: Type.Array(Connection),
  sessions: Type.Array(Type.String(), { description: 'Distinct session ids among the connections' }),
  activeSession: Type.Union([Type.String(), Type.Null()], { description: 'The session SESSION_POLICY=api lets in; null when none was set' }),
});

export const DisconnectAnswer = Type.Object({ disconnected: Type.Integer({ minimum: 0, description: 'Sockets disconnected, on every node' }) });

const RoomSize = Type.Object({ room: Type.String(), sockets: Type.Integer({ minimum: 0 }) });
export const RoomAnswer = RoomSize;
export const RoomsAnswer = Type.Object({ rooms: Type.Array(RoomSize) });

export const StatsAnswer = Type.Object({
  connections: Type.Integer({ minimum: 0 }),
  users: Type.Integer({ minimum: 0 }),
  rooms: Type.Integer({ minimum: 0 }),
  published: Type.Integer({ minimum: 0, description: 'Publications this node accepted since it started, from every surface' }),
  node: Type.Object({
    id: Type.String(),
    phase: Type.String(),
    engine: Type.String(),
    auth: Type.String(),
    sessionPolicy: Type.String(),
    uptimeS: Type.Integer({ minimum: 0 }),
    rssBytes: Type.Integer({ minimum: 0 }),
    heapUsedBytes: Type.Integer({ minimum: 0 }),
  }),
  warnings: Type.Optional(Type.Array(Type.String(), { description: 'While AUTH_STRATEGY=none or AUTH_SOFT_FAIL=true' })),
});

export const JoinTokenAnswer = Type.Object({
  token: Type.String({ description: 'Hand it to the client, which sends socket.emit("join", token)' }),
  channel: Type.String(),
  expiresAt: Type.Integer({ description: 'Unix seconds' }),
});
