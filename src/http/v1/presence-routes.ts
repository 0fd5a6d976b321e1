import type { FastifyInstance } from 'fastify';
import type { SurfaceOptions } from '../api-context.js';
import { DisconnectBody, RoomParams, RoomsQuery, UserParams } from './schemas.js';

/** Users and rooms: `GET /v1/users/{userId}`, `POST /v1/users/{userId}/disconnect`, `GET /v1/rooms`, `GET /v1/rooms/{room}`, `GET /v1/rooms/{room}/presence`. */
export async function presenceRoutes(app: FastifyInstance, { context }: SurfaceOptions): Promise<void> {
  const { presence, sessions } = context.engine;

  app.get<{ Params: UserParams }>('/users/:userId', { schema: { params: UserParams } }, async (request) => {
    const { userId } = request.params;
    const [user, activeSession] = await Promise.all([presence.user(userId), sessions.activeSession(userId)]);
    return { ...user, online: user.connections.length > 0, activeSession: activeSession ?? null };
  });

  app.post<{ Params: UserParams; Body: DisconnectBody }>(
    '/users/:userId/disconnect',
    { schema: { params: UserParams, body: DisconnectBody } },
    async (request) => {
      const disconnected = await context.sessionControl.disconnectUser(request.params.userId, request.body?.sessionId);
      return { disconnected };
    },
  );

  app.get<{ Querystring: RoomsQuery }>('/rooms', { schema: { querystring: RoomsQuery } }, async (request) => ({
    rooms: await presence.rooms(request.query.prefix, request.query.limit),
  }));

  app.get<{ Params: RoomParams }>('/rooms/:room/presence', { schema: { params: RoomParams } }, async (request) => ({
    room: request.params.room,
    members: await presence.roomMembers(request.params.room),
  }));

  app.get<{ Params: RoomParams }>('/rooms/:room', { schema: { params: RoomParams } }, async (request) => ({
    room: request.params.room,
    sockets: await presence.roomSize(request.params.room),
  }));
}
