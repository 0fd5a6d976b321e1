import { SignJWT } from 'jose';
import type { Config } from '../config/config.js';

/**
 * The development welcome printed once to standard output when secrets were generated for this run:
 * the generated API key and JWT secret, a sample client token and a ready-to-paste publish command.
 * Never printed in production (there, missing secrets stop the process) and never written to the log.
 */
export async function devBanner(config: Config, baseUrl: string, authUrl?: string): Promise<string | undefined> {
  const { apiKey, jwtSecret, accessKey } = config.generated;
  if (apiKey === undefined && jwtSecret === undefined && accessKey === undefined) return undefined;
  const key = apiKey ?? '<one of your API_KEYS>';
  const lines = [
    '',
    `Switchboard is running at ${baseUrl} (development mode; these secrets last for this run only)`,
  ];
  if (apiKey !== undefined) lines.push(`  API key (generated):     ${apiKey}`);
  if (jwtSecret !== undefined) {
    const token = await new SignJWT({ user_id: 'demo', session_id: 'demo-session' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(jwtSecret));
    lines.push(
      `  JWT secret (generated):  ${jwtSecret}`,
      `  Client token for user "demo" (valid 1 h):`,
      `    ${token}`,
      '',
      '  1. Connect a client (in another terminal, from this folder):',
      `    node -e "require('socket.io-client').io('${baseUrl}',{auth:{token:'${token}'}}).onAny((e,d)=>console.log(e,d))"`,
    );
  }
  if (accessKey !== undefined && authUrl !== undefined) {
    lines.push(
      `  Auth service:            ${authUrl}`,
      `  Access key (generated):  ${accessKey}`,
      '',
      '  1. Log in as the admin (or add users: npm run users -- add alice) and connect with the accessToken:',
      `    curl -s -X POST ${authUrl}/login -H 'Content-Type: application/json' -d '{"accessKey":"${accessKey}"}'`,
    );
  }
  lines.push(
    '',
    '  2. Publish an event to user "demo":',
    `    curl -s -X POST ${baseUrl}/v1/publish -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\`,
    `      -d '{"event":"hello","data":{"text":"it works"},"users":["demo"]}'`,
    '',
    '  Set API_KEYS and JWT_SECRET (or JWT_PUBLIC_KEY / JWT_JWKS_URL) to keep them across restarts.',
    '',
  );
  return lines.join('\n');
}
