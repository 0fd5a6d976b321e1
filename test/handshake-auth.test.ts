import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  api, connectClient, expectConnectError, expectRetryClose, nextEvent, openClient, signToken, startGateway, TEST_JWT_SECRET,
} from './support/gateway.js';
import { startReceiver } from './support/http-receiver.js';

describe('handshake: where the token may come from', () => {
  it('accepts auth.token, the seed-002 { authMode, auth } shape and an Authorization header', async () => {
    const { url } = await startGateway();
    await connectClient(url, await signToken({ user_id: 'a1' }));
    const seedShape = openClient(url, { auth: { authMode: 'Bearer', auth: await signToken({ user_id: 'a2' }) } });
    await nextEvent(seedShape, 'connect');
    const header = openClient(url, { extraHeaders: { authorization: `Bearer ${await signToken({ user_id: 'a3' })}` } });
    await nextEvent(header, 'connect');
    const users = await Promise.all(['a1', 'a2', 'a3'].map((id) => api<{ online: boolean }>(url, `/v1/users/${id}`)));
    expect(users.map((u) => u.body.online)).toEqual([true, true, true]);
  });

  it('refuses a missing token with TOKEN_MISSING', async () => {
    const { url } = await startGateway();
    const refusal = await expectConnectError(url, {});
    expect(refusal.data?.code).toBe('TOKEN_MISSING');
    expect(refusal.message).toMatch(/token/i);
  });

  it('refuses a token in the query string unless ALLOW_QUERY_TOKEN=true', async () => {
    const token = await signToken({ user_id: 'q1' });
    const strict = await startGateway();
    expect((await expectConnectError(strict.url, { query: { token } })).data?.code).toBe('TOKEN_IN_QUERY');
    const lenient = await startGateway({ ALLOW_QUERY_TOKEN: 'true' });
    const socket = openClient(lenient.url, { query: { token } });
    await nextEvent(socket, 'connect');
    expect(socket.connected).toBe(true);
    expect((await api<{ online: boolean }>(lenient.url, '/v1/users/q1')).body.online).toBe(true);
  });
});

describe('handshake: token checks', () => {
  const refusals: [string, () => Promise<string>, string][] = [
    ['an expired token', () => signToken({}, { expiresIn: -120 }), 'TOKEN_EXPIRED'],
    ['a token signed with another secret', () => signToken({}, { secret: 'another-secret-of-enough-length' }), 'TOKEN_INVALID'],
    ['an alg:none token', async () => unsignedToken({ user_id: 'mallory', exp: Math.floor(Date.now() / 1000) + 600 }), 'TOKEN_INVALID'],
    ['a malformed token', async () => 'not.a.jwt', 'TOKEN_INVALID'],
    ['a token with a tampered payload', async () => tamper(await signToken({ user_id: 'bob' }), { user_id: 'admin' }), 'TOKEN_INVALID'],
    ['an HS512 token when only HS256 is accepted', () => signToken({}, { alg: 'HS512' }), 'TOKEN_INVALID'],
    ['a token without user_id or sub', async () => new SignJWT({ session_id: 's' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(TEST_JWT_SECRET)), 'TOKEN_INVALID'],
  ];
  for (const [name, makeToken, code] of refusals) {
    it(`refuses ${name} with ${code}`, async () => {
      const { url } = await startGateway();
      const refusal = await expectConnectError(url, { auth: { token: await makeToken() } });
      expect(refusal.data).toMatchObject({ code });
      expect(refusal.data?.message.length).toBeGreaterThan(0);
    });
  }

  it('refuses a wrong issuer or audience and accepts the right ones', async () => {
    const { url } = await startGateway({ JWT_ISSUER: 'https://id.example', JWT_AUDIENCE: 'switchboard' });
    const good = await signToken({ iss: 'https://id.example', aud: 'switchboard' });
    expect((await connectClient(url, good)).connected).toBe(true);
    const wrongIssuer = await expectConnectError(url, { auth: { token: await signToken({ iss: 'https://evil.example', aud: 'switchboard' }) } });
    expect(wrongIssuer.data?.code).toBe('TOKEN_INVALID');
    expect(wrongIssuer.data?.message).toMatch(/iss/);
    const wrongAudience = await expectConnectError(url, { auth: { token: await signToken({ iss: 'https://id.example', aud: 'other' }) } });
    expect(wrongAudience.data?.code).toBe('TOKEN_INVALID');
    expect(wrongAudience.data?.message).toMatch(/aud/);
  });

  it('honours JWT_CLOCK_TOLERANCE for a token that expired a moment ago', async () => {
    const token = await signToken({ user_id: 'late-user' }, { expiresIn: -10 });
    const strict = await startGateway({ JWT_CLOCK_TOLERANCE: '0' });
    expect((await expectConnectError(strict.url, { auth: { token } })).data?.code).toBe('TOKEN_EXPIRED');
    const tolerant = await startGateway({ JWT_CLOCK_TOLERANCE: '60' });
    const socket = await connectClient(tolerant.url, token);
    expect(socket.connected).toBe(true);
    const user = await api<{ online: boolean; connections: unknown[] }>(tolerant.url, '/v1/users/late-user');
    expect(user.body).toMatchObject({ online: true, connections: [expect.objectContaining({ socketId: socket.id })] });
  });
});

describe('handshake: RS256 with a public key', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

  it('accepts an RS256 token and refuses an HS256 token signed with the public key (key confusion)', async () => {
    const { url } = await startGateway({ JWT_SECRET: '', JWT_PUBLIC_KEY: publicPem, JWT_ALGORITHMS: 'RS256' });
    const rs256 = await new SignJWT({ user_id: 'rsa-user' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('1h').sign(privateKey);
    expect((await connectClient(url, rs256)).connected).toBe(true);
    const confused = await new SignJWT({ user_id: 'mallory' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(publicPem));
    const refusal = await expectConnectError(url, { auth: { token: confused } });
    expect(refusal.data?.code).toBe('TOKEN_INVALID');
  });
});

describe('handshake: JWKS', () => {
  const JWKS_PATH = '/.well-known/jwks.json';
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };

  it('verifies tokens against the keys of JWT_JWKS_URL', async () => {
    const jwks = await startReceiver([{ body: { keys: [jwk] } }]);
    const { url } = await startGateway({ JWT_SECRET: '', JWT_JWKS_URL: `${jwks.url}${JWKS_PATH}`, JWT_ALGORITHMS: 'ES256' });
    const token = await new SignJWT({ user_id: 'jwks-user' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('1h').sign(privateKey);
    expect((await connectClient(url, token)).connected).toBe(true);
    expect(jwks.received.map((request) => request.path)).toContain(JWKS_PATH);
    const unknownKid = await new SignJWT({ user_id: 'x' }).setProtectedHeader({ alg: 'ES256', kid: 'nope' }).setExpirationTime('1h').sign(privateKey);
    expect((await expectConnectError(url, { auth: { token: unknownKid } })).data?.code).toBe('TOKEN_INVALID');
  });

  it('answers AUTH_UNAVAILABLE, not TOKEN_INVALID, while the JWKS endpoint is down', async () => {
    const jwks = await startReceiver([{ body: { keys: [jwk] } }]);
    await jwks.close();
    const { url } = await startGateway({ JWT_SECRET: '', JWT_JWKS_URL: `${jwks.url}${JWKS_PATH}`, JWT_ALGORITHMS: 'ES256' });
    const token = await new SignJWT({ user_id: 'jwks-user' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('1h').sign(privateKey);
    expect(await expectRetryClose(url, { auth: { token } })).toBe('AUTH_UNAVAILABLE');
  });
});

describe('handshake: identity', () => {
  it('reads the user from user_id, else sub, and the session from session_id, else sid', async () => {
    const { url } = await startGateway();
    await connectClient(url, await signToken({ user_id: undefined, session_id: undefined, sub: 'from-sub', sid: 'sid-1' }));
    const user = await api<{ sessions: string[] }>(url, '/v1/users/from-sub');
    expect(user.body.sessions).toEqual(['sid-1']);
  });

  it('reads configured claim names (JWT_USER_CLAIM, JWT_SESSION_CLAIM)', async () => {
    const { url } = await startGateway({ JWT_USER_CLAIM: 'uid', JWT_SESSION_CLAIM: 'sess' });
    await connectClient(url, await signToken({ uid: 'custom-user', sess: 'custom-session' }));
    const user = await api<{ sessions: string[] }>(url, '/v1/users/custom-user');
    expect(user.body.sessions).toEqual(['custom-session']);
  });

  it('puts the socket in user:{id} and session:{id} and nowhere a client chose', async () => {
    const { url } = await startGateway();
    const socket = await connectClient(url, await signToken({ user_id: 'roomy', session_id: 'sess-9' }));
    const rooms = await api<{ rooms: { room: string; sockets: number }[] }>(url, '/v1/rooms');
    expect(rooms.body.rooms).toEqual(expect.arrayContaining([{ room: 'user:roomy', sockets: 1 }, { room: 'session:sess-9', sockets: 1 }]));
    // A client cannot join another user's room: the join is refused, and the rooms stay as they were.
    const reply = await socket.timeout(2000).emitWithAck('room/join-room', 'user:someone-else');
    expect(reply).toMatchObject({ error: { code: 'ROOM_FORBIDDEN' } });
    expect(await socket.timeout(2000).emitWithAck('no-such-event', 1)).toMatchObject({ error: { code: 'EVENT_UNKNOWN' } });
    const other = await api<{ sockets: number }>(url, '/v1/rooms/user:someone-else');
    expect(other.body.sockets).toBe(0);
  });

  it('keeps no reference to the handshake request or the token on the server socket', async () => {
    const { url, gateway } = await startGateway();
    await connectClient(url, await signToken({ user_id: 'lean' }));
    const [serverSocket] = await gateway.io.in('user:lean').fetchSockets();
    const local = gateway.io.of('/').sockets.get(serverSocket!.id)!;
    expect(local.request).toBeNull();
    expect(local.handshake.headers).toEqual({});
    expect(local.handshake.auth).toEqual({});
    expect(local.data.userId).toBe('lean');
  });
});

function unsignedToken(payload: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
}

function tamper(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), ...changes };
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}
