import type { RoomMember } from './presence.js';

/** Groups the user ids of a room's sockets into members with their connection counts. */
export function countMembers(userIds: readonly string[]): RoomMember[] {
  const counts = new Map<string, number>();
  for (const userId of userIds) counts.set(userId, (counts.get(userId) ?? 0) + 1);
  return [...counts].map(([userId, connections]) => ({ userId, connections }));
}
