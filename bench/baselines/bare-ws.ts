/**
 * The floor: a bare `ws` server speaking just enough Engine.IO v4 / Socket.IO v5 for the bench clients.
 * It verifies nothing (the JWT payload is only decoded to find the user), keeps a room → sockets Map, and
 * encodes each emitted packet once into one Buffer that every socket in the room is sent as a text frame.
 * No pings, no acks, no middleware: the least work a server can do for the same deliveries.
 *
 * Run: `PORT=3002 node --import tsx bench/baselines/bare-ws.ts`
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const apiKey = process.env.API_KEY ?? 'bench-key-0123456789';
const rooms = new Map<string, Set<WebSocket>>();
const openPacket = (sid: string) =>
  `0${JSON.stringify({ sid, upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 })}`;

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/internal/emit') void emitRoute(req, res);
  else res.writeHead(404).end();
});
const wss = new WebSocketServer({ server, path: '/socket.io/' });

wss.on('connection', (socket) => {
  socket.send(openPacket(newSid()));
  let room: string | undefined;
  socket.on('message', (raw) => {
    const text = raw.toString();
    if (text === '3') return; // pong
    if (!text.startsWith('40') || room !== undefined) return;
    const userId = userIdFromConnect(text.slice(2));
    if (userId === undefined) {
      socket.terminate();
      return;
    }
    room = `user:${userId}`;
    join(room, socket);
    socket.send(`40${JSON.stringify({ sid: newSid() })}`);
  });
  socket.on('close', () => {
    if (room !== undefined) leave(room, socket);
  });
});

async function emitRoute(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.headers.authorization !== `Bearer ${apiKey}`) {
    res.writeHead(401).end();
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const { userId, event, payload } = JSON.parse(Buffer.concat(chunks).toString()) as {
    userId: string;
    event: string;
    payload: unknown;
  };
  // Encoded once; `binary: false` sends the shared Buffer as a text frame without re-encoding per socket.
  const frame = Buffer.from(`42${JSON.stringify([event, payload])}`);
  for (const socket of rooms.get(`user:${userId}`) ?? []) socket.send(frame, { binary: false });
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
}

/** Reads `user_id` from the JWT in the CONNECT payload `{"token":"<jwt>"}` without checking its signature. */
function userIdFromConnect(json: string): string | undefined {
  try {
    const { token } = JSON.parse(json) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { user_id?: unknown };
    return claims.user_id === undefined ? undefined : String(claims.user_id);
  } catch {
    return undefined;
  }
}

function join(room: string, socket: WebSocket): void {
  const members = rooms.get(room);
  if (members === undefined) rooms.set(room, new Set([socket]));
  else members.add(socket);
}

function leave(room: string, socket: WebSocket): void {
  const members = rooms.get(room);
  members?.delete(socket);
  if (members?.size === 0) rooms.delete(room);
}

function newSid(): string {
  return randomBytes(15).toString('base64url');
}

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
// Exit normally on SIGTERM, so that `node --cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));
