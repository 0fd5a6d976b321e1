import { describe, expect, it } from 'vitest';
import { RoomFeed, type Gap } from '../packages/client/src/room-feed.js';

/** A feed of room `r` (epoch `e`) and what its handler and gap listener got. */
function feed() {
  const got: unknown[] = [];
  const gaps: Gap[] = [];
  const room = new RoomFeed('r', () => undefined, (gap) => void gaps.push(gap));
  room.handlers.add((data) => void got.push(data));
  const live = (n: number, id = `id-${n}`) => room.receive('note', n, id, { epoch: 'e', offset: n });
  return { room, got, gaps, live };
}

describe('the client SDK room feed (packages/client/src/room-feed.ts)', () => {
  it('delivers a live message overtaken by a later one (published through another node), once, without a gap', () => {
    const { got, gaps, live } = feed();
    for (const n of [1, 2, 4, 3, 5]) live(n);
    live(4); // the same message again
    expect(got).toEqual([1, 2, 4, 3, 5]);
    expect(gaps).toEqual([]);
  });

  it('reports a gap (epoch) when a new message takes an offset already delivered: history set back by a failover', () => {
    const { got, gaps, live } = feed();
    for (const n of [1, 2, 3, 4, 5]) live(n);
    live(4, 'another-id-at-4'); // the new master hands out offset 4 again
    live(5, 'another-id-at-5');
    expect(got).toEqual([1, 2, 3, 4, 5, 4, 5]);
    expect(gaps).toEqual([{ room: 'r', reason: 'epoch' }]);
  });

  it('holds live messages while paused, then delivers history first and drops what both had', () => {
    const { room, got, gaps, live } = feed();
    live(1);
    room.pause();
    live(4);
    const messages = [2, 3, 4].map((n) => ({ offset: n, id: `id-${n}`, event: 'note', data: n, ts: 0 }));
    expect(room.fill({ room: 'r', epoch: 'e', offset: 4, recovered: true, messages }, { epoch: 'e', offset: 1 })).toBeUndefined();
    expect(got).toEqual([1, 2, 3, 4]);
    expect(gaps).toEqual([]);
  });
});
