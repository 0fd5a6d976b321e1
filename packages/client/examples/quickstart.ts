/**
 * The README's "Client SDK" example as a whole program (test/client-sdk-example.test.ts runs it):
 *
 *   SWITCHBOARD_URL=http://127.0.0.1:3000 TOKEN_URL=https://app.example.com/api/socket-token \
 *   JOIN_TOKEN=… node --import tsx packages/client/examples/quickstart.ts
 *
 * TOKEN_URL answers a socket token as text (your backend's endpoint); JOIN_TOKEN (optional) is one minted by
 * `POST /v1/join-tokens`; the gateway needs `CLIENT_EVENTS=typing` for `send`. It prints one JSON line per
 * thing that happens and exits when the backend publishes `example:done` to its user.
 */
import { createClient } from '@switchboard/client';

const tokenUrl = process.env.TOKEN_URL ?? 'http://127.0.0.1:8080/api/socket-token';
const joinToken = process.env.JOIN_TOKEN;
const log = (what: string, value: unknown) => console.log(JSON.stringify({ what, value }));

const client = createClient({
  url: process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:3000',
  getToken: async () => (await fetch(tokenUrl)).text(), // called at start, on auth:expired, and before exp
});
client.on('state', (s) => log('state', s));                                       // connecting | connected | reconnecting | refused | closed
client.on('error', (error) => log('error', error.message));                       // a refusal or a failing getToken, as it happens
client.on('gap', ({ room, reason }) => log('gap', { room, reason }));             // only when history cannot fill it
const sub = client.subscribe('orders:42', (data, meta) => log('orders:42', { data, id: meta.id, offset: meta.offset }));
client.on('profile:update', (data, meta) => log('profile:update', { data, id: meta.id })); // events to the user's own rooms
await sub.ready;                                                                 // rejects when the room is refused
log('presence', await client.presence('orders:42'));                             // [{ userId, connections }]
await client.send('orders:42', 'typing', { on: true });                          // CLIENT_EVENTS relay, acked
log('chat', await client.chat.send('bob', 'hello'));                             // { id, delivered }
if (joinToken !== undefined) log('joined', (await client.joinWithToken(joinToken, (data) => log('channel', data))).room);
client.on('example:done', () => {
  sub.unsubscribe();
  client.close();
});
log('ready', true);
