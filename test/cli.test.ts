import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { describeVariables } from '../src/config/env-schema.js';
import { api, connectClient, startGateway } from './support/gateway.js';
import { runCli } from './support/process.js';
import { freshDir } from './support/temp.js';

/**
 * The `switchboard` command line for real: each case runs `node bin/switchboard.js …` (what `npx switchboard`
 * runs) as a child process in a fresh directory with a minimal environment, and checks what it printed —
 * tokens with jose against the secret, and on a running gateway.
 */
const ROOT = resolve(import.meta.dirname, '..');
const SECRET = 'cli-test-jwt-secret-7b1e4c9d2a6f8e03';
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; scripts: Record<string, string> };

describe('switchboard', () => {
  it('--help lists the commands; --version prints package.json\'s version; an unknown command is a usage error', async () => {
    const help = await runCli(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: switchboard <command>/);
    for (const command of ['token', 'check-config', 'genconfig', 'users']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));

    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `${packageJson.version}\n`, stderr: '' });
    const unknown = await runCli(['deploy']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "deploy"/);
  });

  it('is package.json\'s bin, so `npx switchboard` runs it from a clone', async () => {
    expect(packageJson.bin.switchboard).toBe('bin/switchboard.js');
    const child = spawn('npx', ['--no-install', 'switchboard', '--version'], {
      cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', npm_config_offline: 'true' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect({ code, stdout }).toEqual({ code: 0, stdout: `${packageJson.version}\n` });
  });
});

describe('switchboard token', () => {
  it('mints a JWT signed with JWT_SECRET, with the user, roles, rooms and lifetime asked for', async () => {
    const minted = await runCli(['token', '--user', 'alice', '--roles', 'admin', '--rooms', 'chat:*', '--ttl', '1h'], { env: { JWT_SECRET: SECRET } });
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    expect(minted.stdout).toBe(`${token}\n`); // only the token on stdout: TOKEN=$(switchboard token …)
    expect(minted.stderr).toMatch(/alice.*JWT_SECRET/);
    expect(minted.stderr).not.toContain(SECRET);

    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ user_id: 'alice', roles: ['admin'], rooms: ['chat:*'] });
    expect(payload.session_id).toEqual(expect.any(String));
    expect(payload.exp! - payload.iat!).toBe(3600);
    await expect(jwtVerify(token, new TextEncoder().encode(`${SECRET}-other`))).rejects.toThrow();
  });

  it('the token lets a stock client in as that user, into the rooms it names and no others', async () => {
    const env = { JWT_SECRET: SECRET, PUBLIC_ROOMS: 'lobby-only' };
    const token = (await runCli(['token', '--user', 'alice', '--rooms', 'chat:*'], { env })).stdout.trim();
    const { url } = await startGateway(env);
    const socket = await connectClient(url, token);
    const user = await api<{ connections: { socketId: string }[] }>(url, '/v1/users/alice');
    expect(user.body.connections.map((connection) => connection.socketId)).toEqual([socket.id]);
    expect(await socket.emitWithAck('room/join-room', 'chat:lobby')).toMatchObject({ ok: true });
    expect(await socket.emitWithAck('room/join-room', 'news:today')).toMatchObject({ status: false, error: { code: 'ROOM_FORBIDDEN' } });
  });

  it('follows the configured claim names, issuer and audience, read from .env as the gateway reads them', async () => {
    const dir = freshDir('cli');
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\nJWT_USER_CLAIM=uid\nJWT_ROOMS_CLAIM=allowed\nJWT_ISSUER=https://id.example\nJWT_AUDIENCE=switchboard\n`);
    const minted = await runCli(['token', '--user', 'bob', '--rooms', 'a,b', '--rooms', 'c', '--permissions', 'publish', '--session', 's-1', '--ttl', '15m'], { cwd: dir });
    expect(minted.code).toBe(0);
    const { payload } = await jwtVerify(minted.stdout.trim(), new TextEncoder().encode(SECRET), { issuer: 'https://id.example', audience: 'switchboard' });
    expect(payload).toMatchObject({ uid: 'bob', session_id: 's-1', allowed: ['a', 'b', 'c'], permissions: ['publish'] });
    expect(payload.user_id).toBeUndefined();
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it('refuses to mint without a configured secret, saying which variable to set', async () => {
    // Development would generate a secret for each gateway run: a token signed with another would not verify.
    const none = await runCli(['token', '--user', 'alice']);
    expect(none).toMatchObject({ code: 1, stdout: '' });
    expect(none.stderr).toMatch(/no JWT secret is configured.*Set JWT_SECRET/);

    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const asymmetric = await runCli(['token', '--user', 'alice'], { env: { JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(), JWT_ALGORITHMS: 'ES256' } });
    expect(asymmetric).toMatchObject({ code: 1, stdout: '' });
    expect(asymmetric.stderr).toMatch(/JWT_PUBLIC_KEY.*private key/);
  });

  it('signs with ACCESS_TOKEN_SECRET when that is what the gateway verifies with (the auth service, no JWT_SECRET)', async () => {
    const accessSecret = 'cli-test-access-secret-0b9c8d7e6f5a4b3c';
    const minted = await runCli(['token', '--user', 'carol'], { env: { ACCESS_TOKEN_SECRET: accessSecret, REFRESH_TOKEN_SECRET: `${accessSecret}-refresh` } });
    expect(minted.code).toBe(0);
    expect(minted.stderr).toMatch(/ACCESS_TOKEN_SECRET/);
    await jwtVerify(minted.stdout.trim(), new TextEncoder().encode(accessSecret));
  });

  it('usage errors exit 2: no --user, a bad --ttl, an unknown option', async () => {
    for (const args of [['token'], ['token', '--user', 'a', '--ttl', 'soon'], ['token', '--user', 'a', '--admin']]) {
      const result = await runCli(args, { env: { JWT_SECRET: SECRET } });
      expect(result, args.join(' ')).toMatchObject({ code: 2, stdout: '' });
    }
    expect(decodeJwt((await runCli(['token', '--user', 'a', '--ttl', '90'], { env: { JWT_SECRET: SECRET } })).stdout.trim()).exp).toBeGreaterThan(0);
  });
});

describe('switchboard check-config', () => {
  const SECRETS = {
    JWT_SECRET: 'check-jwt-secret-5d4c3b2a19f8e7d6',
    API_KEYS: 'check-api-key-one-77aa,check-api-key-two-88bb',
    WEBHOOK_SECRET: 'check-webhook-secret-1f2e',
    ACCESS_TOKEN_SECRET: 'check-access-secret-3c4d5e6f',
    REFRESH_TOKEN_SECRET: 'check-refresh-secret-7a8b9c0d',
    ACCESS_KEY: 'check-access-key-0e1f2a3b',
  };
  const REDIS_PASSWORD = 'check-redis-pass-4b5c';
  const DATABASE_PASSWORD = 'check-pg-pass-6d7e';

  it('prints every effective value and where it comes from, with no secret in the output', async () => {
    const dir = freshDir('cli');
    writeFileSync(join(dir, '.env'), `REDIS_URL=redis://:${REDIS_PASSWORD}@10.1.2.3:6380/0\nPORT=4100\n`);
    const result = await runCli(['check-config'], {
      cwd: dir,
      env: { ...SECRETS, AUTH_SERVICE: 'on', DATABASE_URL: `postgres://switchboard:${DATABASE_PASSWORD}@db.internal:5432/auth`, WEBHOOK_URL: 'https://hooks.example/in' },
    });
    expect(result.code).toBe(0);
    const output = result.stdout + result.stderr;
    for (const secret of [...Object.values(SECRETS), ...SECRETS.API_KEYS.split(','), REDIS_PASSWORD, DATABASE_PASSWORD]) expect(output).not.toContain(secret);

    const row = (name: string) => new RegExp(`^${name}\\s+(.*?)\\s+(\\S+)$`, 'm').exec(result.stdout)?.slice(1);
    expect(row('PORT')).toEqual(['4100', '.env']);
    expect(row('HOST')).toEqual(['0.0.0.0', 'default']);
    expect(row('JWT_SECRET')).toEqual([`[redacted] (${SECRETS.JWT_SECRET.length} characters)`, 'environment']);
    expect(row('REDIS_URL')).toEqual(['redis://:[redacted]@10.1.2.3:6380/0', '.env']);
    expect(result.stdout).toMatch(/engine:\s+Redis at redis:\/\/:\[redacted\]@10\.1\.2\.3:6380\/0/);
    expect(result.stdout).toMatch(/auth service:\s+on, port 4000, users in PostgreSQL at postgres:\/\/switchboard:\[redacted\]@db\.internal:5432\/auth/);
  });

  it('every variable that holds a credential is marked secret in the schema (so check-config masks it)', () => {
    const credentialNamed = describeVariables().filter(({ name }) => /SECRET|PASS|_KEYS?$|AUTH_TOKEN/.test(name) && name !== 'JWT_PUBLIC_KEY');
    expect(credentialNamed.length).toBeGreaterThan(10);
    expect(credentialNamed.filter(({ secret }) => !secret).map(({ name }) => name)).toEqual([]);
  });

  it('exits 1 listing every problem when the gateway would refuse to start', async () => {
    const result = await runCli(['check-config'], { env: { NODE_ENV: 'production', PORT: 'eighty' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/would refuse to start/);
    expect(result.stderr).toMatch(/- PORT: must be a whole number/);
    expect(result.stderr).toMatch(/- JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL or ACCESS_TOKEN_SECRET is required/);
  });
});

describe('switchboard genconfig', () => {
  it('writes .env.example, the committed one, and replaces only a file it wrote', async () => {
    const dir = freshDir('cli');
    const committed = readFileSync(join(ROOT, '.env.example'), 'utf8');
    expect(await runCli(['genconfig'], { cwd: dir })).toMatchObject({ code: 0, stdout: '' });
    expect(readFileSync(join(dir, '.env.example'), 'utf8')).toBe(committed);
    expect((await runCli(['genconfig'], { cwd: dir })).code).toBe(0);

    const stdout = await runCli(['genconfig', '--out', '-'], { cwd: dir });
    expect(stdout).toMatchObject({ code: 0, stdout: committed });

    // A .env of the operator's is never overwritten by accident.
    writeFileSync(join(dir, '.env'), 'JWT_SECRET=keep-me\n');
    const refused = await runCli(['genconfig', '--out', '.env'], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not overwritten/);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('JWT_SECRET=keep-me\n');
  });
});

describe('npm run users', () => {
  it('runs the same command line, without building first', async () => {
    expect(packageJson.scripts.users).toBe(`node ${packageJson.bin.switchboard} users`);
    const listed = await runCli(['users', 'list'], { env: { DATA_DIR: freshDir('users') } });
    expect(listed).toEqual({ code: 0, stdout: 'no users\n', stderr: '' });
  });
});
