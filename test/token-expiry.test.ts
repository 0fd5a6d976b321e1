import { describe, expect, it } from 'vitest';
import { connectClient, disconnectReason, nextEvent, signToken, startGateway } from './support/gateway.js';
import { sleep } from './support/wait.js';

describe('token expiry on a connected socket', () => {
  it('tells the socket auth:expired when exp passes and disconnects it after the grace period', async () => {
    const { url } = await startGateway({ JWT_CLOCK_TOLERANCE: '0', TOKEN_EXPIRY_GRACE_MS: '300' });
    const socket = await connectClient(url, await signToken({ user_id: 'gina' }, { expiresIn: 2 }));
    const [expired] = await nextEvent<[{ expiredAt: number; graceMs: number }]>(socket, 'auth:expired', 4000);
    expect(expired.graceMs).toBe(300);
    expect(expired.expiredAt).toBeLessThanOrEqual(Date.now());
    expect(await disconnectReason(socket, 2000)).toBe('io server disconnect');
  });

  it('keeps a socket that refreshed its token in time', async () => {
    const { url } = await startGateway({ JWT_CLOCK_TOLERANCE: '0', TOKEN_EXPIRY_GRACE_MS: '300' });
    const socket = await connectClient(url, await signToken({ user_id: 'hank', session_id: 'h1' }, { expiresIn: 2 }));
    const reply = await socket.emitWithAck('auth:refresh', await signToken({ user_id: 'hank', session_id: 'h1' }, { expiresIn: 600 }));
    expect(reply).toMatchObject({ ok: true });
    expect((reply as { expiresAt: number }).expiresAt).toBeGreaterThan(Date.now() + 500_000);
    await sleep(2800);
    expect(socket.connected).toBe(true);
  });

  it('also accepts a refresh during the grace period', async () => {
    const { url } = await startGateway({ JWT_CLOCK_TOLERANCE: '0', TOKEN_EXPIRY_GRACE_MS: '1500' });
    const socket = await connectClient(url, await signToken({ user_id: 'ivy', session_id: 'i1' }, { expiresIn: 2 }));
    await nextEvent(socket, 'auth:expired', 4000);
    const reply = await socket.emitWithAck('auth:refresh', { token: await signToken({ user_id: 'ivy', session_id: 'i1' }) });
    expect(reply).toMatchObject({ ok: true });
    await sleep(1800);
    expect(socket.connected).toBe(true);
  });

  it('refuses a refresh with another user\'s token, an invalid token or no token, and keeps the old expiry', async () => {
    const { url } = await startGateway({ JWT_CLOCK_TOLERANCE: '0', TOKEN_EXPIRY_GRACE_MS: '200' });
    const socket = await connectClient(url, await signToken({ user_id: 'jack', session_id: 'j1' }, { expiresIn: 2 }));
    expect(await socket.emitWithAck('auth:refresh', await signToken({ user_id: 'mallory', session_id: 'j1' })))
      .toMatchObject({ error: { code: 'IDENTITY_MISMATCH' } });
    expect(await socket.emitWithAck('auth:refresh', await signToken({ user_id: 'jack', session_id: 'j1' }, { secret: 'wrong-secret-wrong-secret' })))
      .toMatchObject({ error: { code: 'TOKEN_INVALID' } });
    expect(await socket.emitWithAck('auth:refresh', {})).toMatchObject({ error: { code: 'TOKEN_MISSING' } });
    expect(await socket.emitWithAck('auth:refresh', await signToken({ user_id: 'jack', session_id: 'j2' })))
      .toMatchObject({ error: { code: 'IDENTITY_MISMATCH' } });
    await nextEvent(socket, 'auth:expired', 3000);
    expect(await disconnectReason(socket, 2000)).toBe('io server disconnect');
  });
});
