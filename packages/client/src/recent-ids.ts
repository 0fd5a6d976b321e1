/**
 * The last `limit` message ids seen, to drop a message delivered twice (live and from history, or to two
 * rooms). Oldest ids go first; a duplicate older than that many messages is also older than any offset
 * the room's place lets through, so it is dropped by offset instead.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly limit: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Records `id`; false when it was already there. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value as string);
    return true;
  }
}
