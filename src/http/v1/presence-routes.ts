import type { FastifyInstance } from 'fastify';
import type { SessionControl } from '../../realtime/session-control.js';
import type { ActiveSessionStore } from '../../stores/active-sessions.js';
import type { MembershipStore } from '../../stores/membership.js';
import type { PresenceReader } from '../../stores/presence.js';
import { RoomMembersAnswer } from '../../protocol/answer-schemas.js';
import {
  DisconnectAnswer, DisconnectBody, RoomAnswer, RoomParams, RoomsAnswer, RoomsQuery, UserAnswer, UserParams,
} from './schemas.js';

/** What the user and room routes read (presence, active sessions, membership counts) and the one thing they do: disconnect. */
export interface PresenceRoutesOptions {
  readonly presence: PresenceReader;
  readonly sessions: Pick<ActiveSessionStore, 'activeSession'>;
  readonly membership: Pick<MembershipStore, 'members'>;
  readonly sessionControl: Pick<SessionControl, 'disconnectUser'>;
}

/** Users and rooms: `GET /v1/users/{userId}`, `POST /v1/users/{userId}/disconnect`, `GET /v1/rooms`, `GET /v1/rooms/{room}`, `GET /v1/rooms/{room}/presence`. */
export async function presenceRoutes(app: FastifyInstance, { presence, sessions, membership, sessionControl }: PresenceRoutesOptions): Promise<void> {
  app.get<{ Params: UserParams }>('/users/:userId', {
    schema: { summary: 'A user\'s connections and sessions', params: UserParams, response: { 200: { ...UserAnswer, description: 'The user, online or not' } } },
    config: { refusals: ['ENGINE_UNAVAILABLE'] },
  }, async (request) => {
    const { userId } = request.params;
    const [user, activeSession] = await Promise.all([presence.user(userId), sessions.activeSession(userId)]);
    return { ...user, online: user.connections.length > 0, activeSession: activeSession ?? null };
  });

  app.post<{ Params: UserParams; Body: DisconnectBody }>(
    '/users/:userId/disconnect',
    {
      schema: {
        summary: 'Disconnect a user (or one session of theirs)',
        description: 'Socket.IO\'s server-side disconnect, on every node: stock clients do not reconnect by themselves. The body is optional.',
        params: UserParams,
        body: DisconnectBody,
        response: { 200: { ...DisconnectAnswer, description: 'How many sockets were disconnected' } },
      },
      config: { refusals: ['ENGINE_UNAVAILABLE'] },
    },
    async (request) => {
      const disconnected = await sessionControl.disconnectUser(request.params.userId, request.body?.sessionId);
      return { disconnected };
    },
  );

  app.get<{ Querystring: RoomsQuery }>('/rooms', {
    schema: {
      summary: 'Rooms and their socket counts',
      description: 'Rooms sockets joined (their own `user:`/`session:` rooms are not listed), optionally those starting with `prefix`.',
      querystring: RoomsQuery,
      response: { 200: { ...RoomsAnswer, description: 'The rooms' } },
    },
    config: { refusals: ['ENGINE_UNAVAILABLE'] },
  }, async (request) => ({
    rooms: await presence.rooms(request.query.prefix, request.query.limit),
  }));

  /**
   * The same answer as the socket event `room/members`: the membership counts that drive the presence
   * events and webhooks (cluster-wide, read without listing sockets). They cover the rooms sockets joined,
   * not their own `user:`/`session:`/`role:` rooms (`GET /v1/users/{userId}` lists a user's sockets), and
   * a dropped socket stays counted until RECOVERY_WINDOW_MS has passed, as it does for `room/user-disconnected`.
   */
  app.get<{ Params: RoomParams }>('/rooms/:room/presence', {
    schema: {
      summary: 'A room\'s members (users)',
      description: 'The same answer as the socket event `room/members`; a dropped socket stays counted for RECOVERY_WINDOW_MS.',
      params: RoomParams,
      response: { 200: { ...RoomMembersAnswer, description: 'The members, cluster-wide' } },
    },
    config: { refusals: ['ENGINE_UNAVAILABLE'] },
  }, async (request) => ({
    room: request.params.room,
    members: await membership.members(request.params.room),
  }));

  app.get<{ Params: RoomParams }>('/rooms/:room', {
    schema: { summary: 'A room\'s socket count', params: RoomParams, response: { 200: { ...RoomAnswer, description: 'The room (0 sockets when nobody is in it)' } } },
    config: { refusals: ['ENGINE_UNAVAILABLE'] },
  }, async (request) => ({
    room: request.params.room,
    sockets: await presence.roomSize(request.params.room),
  }));
}
