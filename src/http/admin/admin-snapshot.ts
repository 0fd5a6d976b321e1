import { isGatewayError } from '../../protocol/errors.js';
import type { GatewayServer } from '../../protocol/socket-types.js';
import { namespaceTable } from '../../realtime/namespace-table.js';
import type { Lifecycle } from '../../runtime/lifecycle.js';
import type { RecentActivity, RefusalCount } from '../../runtime/recent-activity.js';
import type { NodeConnections, PresenceReader, PresenceStats, RoomInfo } from '../../stores/presence.js';
import type { WebhookStats } from '../../webhooks/webhook-sender.js';

/** Rooms listed in a snapshot, the fullest first; presence is asked for at most {@link ROOMS_READ}. */
const ROOMS_SHOWN = 25;
const ROOMS_READ = 10_000;

/** The gateway's own rooms for each socket, which the rooms view leaves out (a user lookup shows them). */
const OWN_ROOM_PREFIXES = ['user:', 'session:', 'role:'];

/** What the dashboard shows, built once per tick for every open feed. */
export interface AdminSnapshot {
  /** Unix milliseconds. */
  readonly at: number;
  readonly node: { readonly id: string; readonly phase: string; readonly engine: string; readonly uptimeS: number; readonly rssBytes: number; readonly heapUsedBytes: number };
  /** Cluster-wide presence counts (`GET /v1/stats`'s); `null` when presence could not be read. */
  readonly totals: PresenceStats | null;
  /** The live nodes and their sockets in `/` (one node: this one). */
  readonly nodes: readonly (Omit<NodeConnections, 'lastBeatAt'> & { readonly lastBeatAt: number | null; readonly self: boolean })[];
  /** This node's sockets by namespace (the transaction events' client namespaces included) and by transport. */
  readonly local: { readonly namespaces: readonly { readonly name: string; readonly sockets: number }[]; readonly transports: Readonly<Record<string, number>> };
  /** This node's publications per second, oldest first, one number per second of the window. */
  readonly published: { readonly perSecond: readonly number[]; readonly total: number };
  /** The fullest rooms sockets joined, and how many such rooms there are. */
  readonly rooms: { readonly top: readonly RoomInfo[]; readonly count: number } | null;
  readonly webhooks: (WebhookStats & { readonly backendUrl: boolean });
  /** This node's refusals within the window, by catalog code. */
  readonly refusals: { readonly windowS: number; readonly codes: readonly RefusalCount[] };
  /** What could not be read this time (e.g. presence while Redis is away), as catalog codes. */
  readonly problems: readonly string[];
}

/** What a snapshot is read from; the composition root hands over the node's own parts. */
export interface SnapshotSources {
  readonly nodeId: string;
  readonly engineName: string;
  readonly lifecycle: Lifecycle;
  readonly presence: PresenceReader;
  readonly io: GatewayServer;
  readonly publishedCount: () => number;
  readonly activity: RecentActivity;
  readonly webhooks: { stats(): WebhookStats };
  /** WEBHOOK_URL is set (the backend webhooks are on). */
  readonly backendWebhooks: boolean;
}

/** Reads one snapshot. Presence failures (Redis away) leave their part `null` and are named in `problems`. */
export async function readSnapshot(sources: SnapshotSources): Promise<AdminSnapshot> {
  const problems: string[] = [];
  const attempt = async <T>(read: () => Promise<T>, what: string): Promise<T | null> => {
    try {
      return await read();
    } catch (error) {
      problems.push(`${what}: ${isGatewayError(error) ? error.code : 'INTERNAL'}`);
      return null;
    }
  };
  const { presence, io, activity } = sources;
  const [totals, rooms, nodes] = await Promise.all([
    attempt(() => presence.stats(), 'presence'),
    attempt(() => presence.rooms('', ROOMS_READ), 'rooms'),
    presence.nodes === undefined ? Promise.resolve(undefined) : attempt(() => presence.nodes!(), 'nodes'),
  ]);
  const memory = process.memoryUsage();
  const local = localSockets(io);
  const own = local.namespaces.find((namespace) => namespace.name === '/')?.sockets ?? 0;
  const joined = rooms?.filter(({ room }) => !OWN_ROOM_PREFIXES.some((prefix) => room.startsWith(prefix)));
  return {
    at: Date.now(),
    node: {
      id: sources.nodeId,
      phase: sources.lifecycle.phase,
      engine: sources.engineName,
      uptimeS: Math.round((Date.now() - sources.lifecycle.startedAt) / 1000),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
    },
    totals,
    nodes: nodes === undefined || nodes === null
      ? [{ nodeId: sources.nodeId, connections: own, lastBeatAt: null, self: true }]
      : nodes.map((node) => ({ ...node, self: node.nodeId === sources.nodeId })),
    local,
    published: { perSecond: activity.publishedPerSecond(), total: sources.publishedCount() },
    rooms: joined === undefined ? null : { top: [...joined].sort((a, b) => b.sockets - a.sockets).slice(0, ROOMS_SHOWN), count: joined.length },
    webhooks: { ...sources.webhooks.stats(), backendUrl: sources.backendWebhooks },
    refusals: { windowS: activity.windowS, codes: activity.refusalsByCode() },
    problems,
  };
}

/**
 * This node's sockets per namespace, and its connections per transport (`websocket`, `polling`): each
 * Engine.IO connection once, however many namespaces it entered; connections without a socket yet (a
 * handshake under way) are not counted.
 */
function localSockets(io: GatewayServer): AdminSnapshot['local'] {
  const namespaces: { name: string; sockets: number }[] = [];
  const transports: Record<string, number> = {};
  const seen = new Set<object>();
  for (const namespace of namespaceTable(io).values()) {
    namespaces.push({ name: namespace.name, sockets: namespace.sockets.size });
    for (const socket of namespace.sockets.values()) {
      if (seen.has(socket.conn)) continue;
      seen.add(socket.conn);
      const transport = socket.conn.transport.name;
      transports[transport] = (transports[transport] ?? 0) + 1;
    }
  }
  return { namespaces, transports };
}
