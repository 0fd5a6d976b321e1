/**
 * A room-name pattern where `*` matches any run of characters (also `:` and `/`) and nothing else is
 * special: `chat:*` matches `chat:lobby` and `chat:team:7`. Written by hand because path-glob libraries
 * give `/` a meaning room names do not have.
 */
export class RoomPattern {
  private readonly regex: RegExp;

  constructor(readonly source: string) {
    const body = source.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    this.regex = new RegExp(`^${body}$`, 's');
  }

  matches(room: string): boolean {
    return this.regex.test(room);
  }
}

/** True when any of `patterns` matches `room`. */
export function anyMatches(patterns: readonly RoomPattern[], room: string): boolean {
  return patterns.some((pattern) => pattern.matches(room));
}
