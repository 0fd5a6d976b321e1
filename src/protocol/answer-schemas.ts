import { Type, type Static } from '@sinclair/typebox';

/**
 * The answers the HTTP API and socket acks share, one schema each: a publish's result, a room's history,
 * a room's members. They document the answers (OpenAPI, AsyncAPI) and type the handlers that build them.
 */

const HistoryPosition = Type.Object({ epoch: Type.String(), offset: Type.Integer({ minimum: 1 }) });

/** Where a publication landed in each targeted room's history (`epoch`/`offset` alone when one room was targeted). */
export const PublishAnswer = Type.Object({
  id: Type.String({ description: 'The message id (a uuid), also in the meta clients receive' }),
  history: Type.Optional(Type.Record(Type.String(), HistoryPosition, { description: 'Per targeted room: its history epoch and the message\'s offset' })),
  epoch: Type.Optional(Type.String()),
  offset: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type PublishAnswer = Static<typeof PublishAnswer>;

const HistoryMessage = Type.Object({
  offset: Type.Integer({ minimum: 1 }),
  id: Type.String(),
  event: Type.String(),
  data: Type.Unknown(),
  ts: Type.Integer({ description: 'Unix milliseconds of the publish' }),
});

/** A room's messages after an offset: `recovered: false` when the gap cannot be filled (resync from your source). */
export const HistoryAnswer = Type.Object({
  room: Type.String(),
  epoch: Type.Union([Type.String(), Type.Null()], { description: 'The room\'s history epoch; null when it has none' }),
  offset: Type.Integer({ minimum: 0, description: 'The room\'s latest offset' }),
  recovered: Type.Boolean(),
  messages: Type.Array(HistoryMessage),
});
export type HistoryAnswer = Static<typeof HistoryAnswer>;

/** A room's members: users, each with how many of their sockets are in it (cluster-wide). */
export const RoomMembersAnswer = Type.Object({
  room: Type.String(),
  members: Type.Array(Type.Object({ userId: Type.String(), connections: Type.Integer({ minimum: 1 }) })),
});
export type RoomMembersAnswer = Static<typeof RoomMembersAnswer>;
