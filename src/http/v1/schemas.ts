import { Type, type Static } from '@sinclair/typebox';
import { Name } from '../../protocol/names.js';


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
  { additionalProperties: false },
);
export type PublishBody = Static<typeof PublishBody>;

export const UserParams = Type.Object({ userId: Name });
export type UserParams = Static<typeof UserParams>;

export const DisconnectBody = Type.Union([
  Type.Object({ sessionId: Type.Optional(Name) }, { additionalProperties: false }),
  Type.Null(),
]);
export type DisconnectBody = Static<typeof DisconnectBody>;

export const RoomParams = Type.Object({ room: Name });
export type RoomParams = Static<typeof RoomParams>;

export const RoomsQuery = Type.Object(
  {
    prefix: Type.Optional(Type.String({ maxLength: 512 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
  },
  { additionalProperties: false },
);
export type RoomsQuery = Static<typeof RoomsQuery>;

export const HistoryQuery = Type.Object(
  {
    since: Type.Optional(Type.Integer({ minimum: 0 })),
    epoch: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
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
  { additionalProperties: false },
);
export type JoinTokenBody = Static<typeof JoinTokenBody>;
