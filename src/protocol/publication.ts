import { GatewayError } from './errors.js';
import { RESERVED_EVENT_NAMES } from './events.js';
import { sessionRoom, userRoom } from './own-rooms.js';

/** The Socket.IO namespace every surface publishes in, except the transaction events. */
const MAIN_NAMESPACE = '/';

const NONE: readonly string[] = Object.freeze([]);
const MAIN_NAMESPACES: readonly string[] = Object.freeze([MAIN_NAMESPACE]);

/**
 * Where a publication goes, resolved once from the request: the namespaces it reaches and, in each, the
 * rooms it targets (users and sessions already turned into their `user:`/`session:` rooms) and the rooms
 * it skips — Socket.IO's `io.of(namespace).to(rooms).except(rooms)`. Immutable; built by
 * {@link resolveTarget} or {@link namespaceTarget} and handed down unchanged.
 */
export interface Target {
  /** Namespace names, each starting with `/`: `['/']` ({@link MAIN_NAMESPACE}) for every surface but the transaction routes. */
  readonly namespaces: readonly string[];
  readonly rooms: readonly string[];
  readonly except: readonly string[];
  /** Every socket of the namespaces (then `rooms` is empty). */
  readonly broadcast: boolean;
}

/** One message on its way to clients. `id` is unique per publication and reaches clients as `meta.id`. */
export interface Publication {
  readonly id: string;
  readonly event: string;
  readonly data: unknown;
  readonly target: Target;
}

export interface TargetSpec {
  rooms?: readonly string[] | undefined;
  users?: readonly string[] | undefined;
  sessions?: readonly string[] | undefined;
  except?: readonly string[] | undefined;
  broadcast?: boolean | undefined;
}

/**
 * Turns the request's targeting fields into a {@link Target} in the main namespace; refuses an empty one
 * (no accidental broadcast).
 */
export function resolveTarget(spec: TargetSpec): Target {
  const rooms = [
    ...(spec.rooms ?? []),
    ...(spec.users ?? []).map(userRoom),
    ...(spec.sessions ?? []).map(sessionRoom),
  ];
  const broadcast = spec.broadcast === true;
  if (rooms.length === 0 && !broadcast) throw new GatewayError('NO_TARGET');
  return Object.freeze({
    namespaces: MAIN_NAMESPACES,
    rooms: Object.freeze(broadcast ? [] : [...new Set(rooms)]),
    except: Object.freeze([...new Set(spec.except ?? [])]),
    broadcast,
  });
}

/**
 * Every socket of the given namespaces (the transaction events' client namespaces `/{clientId}` and
 * `/{clientId}/{event}`), on every node; refuses an empty list as NO_TARGET.
 */
export function namespaceTarget(namespaces: readonly string[]): Target {
  if (namespaces.length === 0) throw new GatewayError('NO_TARGET');
  return Object.freeze({ namespaces: Object.freeze([...new Set(namespaces)]), rooms: NONE, except: NONE, broadcast: true });
}

/** True when a target reaches only the main namespace, the one room history is kept for. */
export function isMainNamespaceOnly(target: Target): boolean {
  return target.namespaces.length === 1 && target.namespaces[0] === MAIN_NAMESPACE;
}

export const MAX_EVENT_NAME_LENGTH = 200;

/** How deep a payload may nest; deeper ones would overflow the stack of Socket.IO's encoder. */
export const MAX_DATA_DEPTH = 64;

/**
 * Refuses what clients could not receive, whichever surface it came from: an event name that is empty,
 * longer than 200 characters (UTF-16 units) or reserved, and data nested deeper than {@link MAX_DATA_DEPTH}.
 */
export function assertPublishable(event: string, data: unknown): void {
  if (event.length === 0 || event.length > MAX_EVENT_NAME_LENGTH) {
    throw new GatewayError('INVALID_BODY', `event must be 1 to ${MAX_EVENT_NAME_LENGTH} characters`, { details: { field: 'event' } });
  }
  if (RESERVED_EVENT_NAMES.has(event)) {
    throw new GatewayError('EVENT_RESERVED', `"${event}" is reserved by Socket.IO; choose another event name`, { details: { field: 'event' } });
  }
  if (typeof data === 'object' && data !== null && nestingDepth(data) > MAX_DATA_DEPTH) {
    throw new GatewayError('INVALID_BODY', `data nests deeper than ${MAX_DATA_DEPTH} levels`, { details: { field: 'data' } });
  }
}

/** Depth of a JSON value, measured without recursion (so hostile input cannot overflow this check). */
function nestingDepth(root: object): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (depth > deepest) deepest = depth;
    if (deepest > MAX_DATA_DEPTH) return deepest;
    if (Array.isArray(value)) {
      for (const child of value) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    } else {
      for (const key in value as Record<string, unknown>) {
        const child = (value as Record<string, unknown>)[key];
        if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
      }
    }
  }
  return deepest;
}
