/**
 * The "plain" baseline: a push server written the way a typical hand-written one is — Express 5 with
 * `express.json()`, Socket.IO 4.8 with default options (so each socket keeps its handshake request), a
 * JWT-checking handshake middleware and one internal emit route. Switchboard is measured against it.
 *
 * Run: `PORT=3001 node --import tsx bench/baselines/express-socketio.ts`
 */
import { createServer } from 'node:http';
import express from 'express';
import { jwtVerify } from 'jose';
import { Server, type DefaultEventsMap } from 'socket.io';

interface SocketData {
  userId: string;
}

interface EmitBody {
  userId: string;
  event: string;
  payload: unknown;
}

const secret = new TextEncoder().encode(process.env.JWT_SECRET ?? 'bench-secret-0123456789abcdef-0123456789');
const apiKey = process.env.API_KEY ?? 'bench-key-0123456789';

const app = express();
app.use(express.json());
const server = createServer(app);
const io = new Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>(server);

io.use(async (socket, next) => {
  try {
    const { payload } = await jwtVerify(String(socket.handshake.auth.token), secret);
    socket.data.userId = String(payload.user_id);
    next();
  } catch {
    next(new Error('unauthorized'));
  }
});

io.on('connection', (socket) => {
  socket.join(`user:${socket.data.userId}`);
});

app.post('/internal/emit', (req, res) => {
  if (req.headers.authorization !== `Bearer ${apiKey}`) {
    res.status(401).json({ error: 'unauthorized' });
    return;
  }
  const { userId, event, payload } = req.body as EmitBody;
  io.to(`user:${userId}`).emit(event, payload);
  res.json({ ok: true });
});

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
// Exit normally on SIGTERM, so that `node --cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));
