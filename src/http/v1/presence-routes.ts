import type { FastifyInstance } from 'fastify';
import type { SessionControl } from '../../realtime/session-control.js';
import type { ActiveSessionStore } from '../../stores/active-sessions.js';
import type { MembershipStore } from '../../stores/membership.js';
import type { PresenceReader } from '../../stores/presence.js';
import { DisconnectBody, RoomParams, RoomsQuery, UserParams } from './schemas.js';

/** What the user and room routes read (presence, active sessions, membership counts) and the one thing they do: disconnect. */
export interface PresenceRoutesOptions {
  readonly presence: PresenceReader;
  readonly sessions: Pick<ActiveSessionStore, 'activeSession'>;
  readonly membership: Pick<MembershipStore, 'members'>;
  readonly sessionControl: Pick<SessionControl, 'disconnectUser'>;
}

/** Users and rooms: `GET /v1/users/{userId}`, `POST /v1/users/{userId}/disconnect`, `GET /v1/rooms`, `GET /v1/rooms/{room}`, `GET /v1/rooms/{room}/presence`. */
export async function presenceRoutes(app: FastifyInstance, { presence, sessions, membership, sessionControl }: PresenceRoutesOptions): Promise<void> {
  app.get<{ Params: UserParams }>('/users/:userId', { schema: { params: UserParams } }, async (request) => {
    const { userId } = request.params;
    const [user, activeSession] = await Promise.all([presence.user(userId), sessions.activeSession(userId)]);
    return { ...user, online: user.connections.length > 0, activeSession: activeSession ?? null };
  });

  app.post<{ Params: UserParams; Body: DisconnectBody }>(
    '/users/:userId/disconnect',
    { schema: { params: UserParams, body: DisconnectBody } },
    async (request) => {
      const disconnected = await sessionControl.disconnectUser(request.params.userId, request.body?.sessionId);
      return { disconnected };
    },
  );

  app.get<{ Querystring: RoomsQuery }>('/rooms', { schema: { querystring: RoomsQuery } }, async (request) => ({
    rooms: await presence.rooms(request.query.prefix, request.query.limit),
  }));

  /**
   * The same answer as the socket event `room/members`: the membership counts that drive the presence
   * events and webhooks (cluster-wide, read without listing sockets). They cover the rooms sockets joined,
   * not their own `user:`/`session:`/`role:` rooms (`GET /v1/users/{userId}` lists a user's sockets), and
   * a dropped socket stays counted until RECOVERY_WINDOW_MS has passed, as it does for `room/user-disconnected`.
   */
  app.get<{ Params: RoomParams }>('/rooms/:room/presence', { schema: { params: RoomParams } }, async (request) => ({
    room: request.params.room,
    members: await membership.members(request.params.room),
  }));

  app.get<{ Params: RoomParams }>('/rooms/:room', { schema: { params: RoomParams } }, async (request) => ({
    room: request.params.room,
    sockets: await presence.roomSize(request.params.room),
  }));
}
