import { userRoom } from '../protocol/own-rooms.js';
import type { PresenceReader, PresenceStats, RoomInfo, UserPresence } from './presence.js';

/**
 * Presence answered for several readers at once, as if they were one: the nodes of an in-process
 * cluster, each read from its own Socket.IO adapter (LocalPresenceReader). Every query asks every reader,
 * so it costs what they cost together; the set of readers is read anew on each query (nodes come and go).
 */
export class MergedPresenceReader implements PresenceReader {
  constructor(private readonly readers: () => readonly PresenceReader[]) {}

  async rooms(prefix = '', limit = 1000): Promise<RoomInfo[]> {
    const answers = await this.ask((reader) => reader.rooms(prefix, Number.MAX_SAFE_INTEGER));
    return addUp(answers.flat().map(({ room, sockets }) => [room, sockets])).slice(0, limit).map(([room, sockets]) => ({ room, sockets }));
  }

  async roomSize(room: string): Promise<number> {
    return (await this.ask((reader) => reader.roomSize(room))).reduce((sum, size) => sum + size, 0);
  }

  async user(userId: string): Promise<UserPresence> {
    const answers = await this.ask((reader) => reader.user(userId));
    const connections = answers.flatMap((answer) => answer.connections);
    const sessions = [...new Set(answers.flatMap((answer) => answer.sessions))];
    return { userId, connections, sessions };
  }

  /** Connections add up; users and rooms are counted once however many readers have them. */
  async stats(): Promise<PresenceStats> {
    const [stats, rooms] = await Promise.all([this.ask((reader) => reader.stats()), this.rooms('', Number.MAX_SAFE_INTEGER)]);
    return {
      connections: stats.reduce((sum, answer) => sum + answer.connections, 0),
      users: rooms.filter(({ room }) => room.startsWith(userRoom(''))).length,
      rooms: rooms.length,
    };
  }

  private ask<T>(query: (reader: PresenceReader) => Promise<T>): Promise<T[]> {
    return Promise.all(this.readers().map(query));
  }
}

/** Sums the numbers of equal keys, in the order the keys first appear. */
function addUp(pairs: readonly (readonly [string, number])[]): [string, number][] {
  const sums = new Map<string, number>();
  for (const [key, value] of pairs) sums.set(key, (sums.get(key) ?? 0) + value);
  return [...sums];
}
