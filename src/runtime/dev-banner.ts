import { SignJWT } from 'jose';
import type { Config } from '../config/config.js';

/**
 * The shell variables the examples of README.md and docs/ use for the API key, and for the client token.
 * The banner prints `export` lines for them; `test/cli.test.ts` checks that the docs use no other.
 */
export const EXAMPLE_API_KEY_VARIABLES = ['API_KEY', 'HTTP_API_KEY', 'INTERNAL_SECRET', 'ADMIN_JWT_OR_API_KEY'] as const;
export const EXAMPLE_TOKEN_VARIABLE = 'TOKEN';

/**
 * The development welcome printed once to standard output when secrets were generated for this run:
 * the generated API key and JWT secret, a sample client token, a ready-to-paste publish command, and the
 * `export` lines that set the variables the docs' examples use.
 * Never printed in production (there, missing secrets stop the process) and never written to the log.
 */
export async function devBanner(config: Config, baseUrl: string, authUrl?: string): Promise<string | undefined> {
  const { apiKey, jwtSecret, accessKey } = config.generated;
  if (apiKey === undefined && jwtSecret === undefined && accessKey === undefined) return undefined;
  const key = apiKey ?? '<one of your API_KEYS>';
  const exports: string[] = [];
  const lines = [
    '',
    `Switchboard is running at ${baseUrl} (development mode; these secrets last for this run only)`,
  ];
  if (apiKey !== undefined) exports.push(...EXAMPLE_API_KEY_VARIABLES.map((name) => `${name}='${apiKey}'`));
  if (apiKey !== undefined) lines.push(`  API key (generated):     ${apiKey}`);
  if (jwtSecret !== undefined) {
    const token = await new SignJWT({ user_id: 'demo', session_id: 'demo-session' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(jwtSecret));
    exports.push(`${EXAMPLE_TOKEN_VARIABLE}='${token}'`);
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
  );
  if (exports.length > 0) {
    lines.push(
      '',
      `  The examples in README.md and docs/ use ${exports.map((line) => `$${line.slice(0, line.indexOf('='))}`).join(', ')}; set them in your shell:`,
      `    export ${exports.join(' ')}`,
      ...(apiKey === undefined ? [] : ['  (INTERNAL_SECRET and HTTP_API_KEY are settings too: a gateway started from that shell keeps this API key.)']),
    );
  }
  lines.push(
    '',
    '  Set API_KEYS and JWT_SECRET (or JWT_PUBLIC_KEY / JWT_JWKS_URL) to keep them across restarts;',
    '  then `npx switchboard token --user alice` mints client tokens, `npx switchboard check-config` shows the settings.',
    '',
  );
  return lines.join('\n');
}
