import { describe, expect, it } from 'vitest';
import {
  api, connectClient, disconnectReason, expectConnectError, nextEvent, recordEvents, signToken, startGateway,
} from './support/gateway.js';
import { sleep } from './support/wait.js';

describe('SESSION_POLICY=api (default)', () => {
  it('admits every session until force-logout names the active one, then refuses the others', async () => {
    const { url } = await startGateway();
    const oldSession = await signToken({ user_id: 'carol', session_id: 'old' });
    await connectClient(url, oldSession);
    await connectClient(url, await signToken({ user_id: 'carol', session_id: 'new' }));
    await api(url, '/internal/force-logout', { body: { userId: 'carol', sessionId: 'new' } });
    const refusal = await expectConnectError(url, { auth: { token: oldSession } });
    expect(refusal.data?.code).toBe('SESSION_REVOKED');
    await connectClient(url, await signToken({ user_id: 'carol', session_id: 'new' }));
  });
});

describe('SESSION_POLICY=latest', () => {
  it('logs out the older session when a new one connects, and keeps the new one', async () => {
    const { url } = await startGateway({ SESSION_POLICY: 'latest' });
    const first = await connectClient(url, await signToken({ user_id: 'dave', session_id: 'laptop' }));
    const firstTab2 = await connectClient(url, await signToken({ user_id: 'dave', session_id: 'laptop' }));
    const loggedOut = nextEvent(first, 'auth:logout');
    const disconnected = disconnectReason(first);
    const second = await connectClient(url, await signToken({ user_id: 'dave', session_id: 'phone' }));
    expect((await loggedOut)[0]).toEqual({ reason: 'session-replaced' });
    expect(await disconnected).toBe('io server disconnect');
    await nextEvent(firstTab2, 'disconnect');
    const user = await api<{ sessions: string[]; activeSession: string }>(url, '/v1/users/dave');
    expect(user.body.sessions).toEqual(['phone']);
    expect(user.body.activeSession).toBe('phone');
    expect(second.connected).toBe(true);
  });

  it('leaves exactly one session when two logins race', async () => {
    const { url } = await startGateway({ SESSION_POLICY: 'latest' });
    const logins = await Promise.allSettled(
      ['s1', 's2', 's3'].map(async (session) => connectClient(url, await signToken({ user_id: 'erin', session_id: session }))),
    );
    expect(logins.filter((l) => l.status === 'fulfilled')).toHaveLength(3);
    await sleep(300);
    const user = await api<{ sessions: string[]; activeSession: string }>(url, '/v1/users/erin');
    expect(user.body.sessions).toEqual([user.body.activeSession]);
  });
});

describe('SESSION_POLICY=multi', () => {
  it('keeps every session connected', async () => {
    const { url } = await startGateway({ SESSION_POLICY: 'multi' });
    const a = await connectClient(url, await signToken({ user_id: 'frank', session_id: 'a' }));
    const seen = recordEvents(a);
    await connectClient(url, await signToken({ user_id: 'frank', session_id: 'b' }));
    const delivered = nextEvent(a, 'ping:check');
    await api(url, '/v1/publish', { body: { event: 'ping:check', users: ['frank'] } });
    await delivered;
    expect(seen.map((e) => e.event)).toEqual(['ping:check']);
    const user = await api<{ sessions: string[] }>(url, '/v1/users/frank');
    expect(user.body.sessions.sort()).toEqual(['a', 'b']);
  });
});
