import { describe, expect, it } from 'vitest';
import {
  api, connectClient, expectConnectError, signToken, startGateway, TEST_API_KEY, TEST_JWT_SECRET,
} from './support/gateway.js';
import { sendRaw } from './support/raw-http.js';
import { waitFor } from './support/wait.js';
import { createLogger, logFormatFor } from '../src/runtime/logger.js';

describe('logs', () => {
  it('never contain a token, an API key or a secret, whatever the client sends', async () => {
    const { url, logs } = await startGateway({ LOG_LEVEL: 'trace', SESSION_POLICY: 'latest' });
    const good = await signToken({ user_id: 'logged-user', session_id: 'ls1' });
    const expired = await signToken({ user_id: 'logged-user' }, { expiresIn: -100 });
    const forged = await signToken({ user_id: 'logged-user' }, { secret: 'forged-secret-forged-secret' });
    const wrongKey = 'wrong-api-key-3e8d7c';

    const socket = await connectClient(url, good);
    await socket.emitWithAck('auth:refresh', forged);
    await socket.emitWithAck('auth:refresh', await signToken({ user_id: 'logged-user', session_id: 'ls1' }));
    await expectConnectError(url, { auth: { token: expired } });
    await expectConnectError(url, { auth: { token: forged } });
    await expectConnectError(url, { query: { token: good } });
    await api(url, '/v1/publish', { key: wrongKey, body: { event: 'x', users: ['a'] } });
    await api(url, '/v1/publish', { headers: { 'x-api-key': wrongKey }, key: null, body: { event: 'x', users: ['a'] } });
    await api(url, '/v1/publish', { body: { event: 'connect', users: ['a'] } });
    await api(url, '/v1/publish', { body: '{"broken json' });
    await api(url, '/internal/force-logout', { body: { userId: 'logged-user', sessionId: 'other' } });
    await connectClient(url, await signToken({ user_id: 'logged-user', session_id: 'ls2' }));
    await sendRaw(url, `POST /v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_API_KEY}\r\nContent-Length: nope\r\n\r\n`);

    expect(logs.length).toBeGreaterThan(5);
    const text = logs.join('\n');
    // Raw request bytes are logged as arrays of numbers: the key's bytes must not appear that way either.
    expect(text).not.toContain([...Buffer.from(TEST_API_KEY)].join(','));
    for (const secret of [good, expired, forged, wrongKey, TEST_API_KEY, TEST_JWT_SECRET]) {
      expect(text).not.toContain(secret);
    }
    // Each JWT's signature part alone must not leak either.
    for (const token of [good, expired, forged]) expect(text).not.toContain(token.split('.')[2]);
  });

  it('are JSON lines with a component name', async () => {
    const { url, logs } = await startGateway({ LOG_LEVEL: 'debug' });
    await expectConnectError(url, { auth: { token: 'garbage' } });
    const parsed = logs.map((line) => JSON.parse(line) as { msg: string; component?: string; level: number });
    expect(parsed.some((entry) => entry.component === 'realtime' && entry.msg === 'handshake refused')).toBe(true);
  });

  it('in the human-readable format (development on a terminal) are redacted just the same', async () => {
    expect(logFormatFor('development', true)).toBe('pretty');
    expect(logFormatFor('test', true)).toBe('pretty');
    expect(logFormatFor('production', true)).toBe('json');
    expect(logFormatFor('development', false)).toBe('json');

    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) }, 'pretty');
    const password = 'pretty-log-password-51c2';
    logger.child({ component: 'auth' }).info({ token: TEST_JWT_SECRET, headers: { authorization: `Bearer ${TEST_API_KEY}` }, user: 'alice' }, 'signed in');
    logger.error({ err: new Error(`connect to redis://:${password}@10.0.0.1:6379 failed`) }, 'redis down');
    await waitFor(() => lines.join('').includes('redis down'), { what: 'the pretty lines' });

    const text = lines.join('');
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: signed in /m);
    expect(() => JSON.parse(lines[0]!)).toThrow();
    expect(text).toContain('"user":"alice"');
    expect(text).toContain('[redacted]');
    for (const secret of [TEST_JWT_SECRET, TEST_API_KEY, password]) expect(text).not.toContain(secret);
  });
});
