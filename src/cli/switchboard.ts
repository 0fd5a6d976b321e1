import { readFileSync } from 'node:fs';

/**
 * The `switchboard` command line (package.json `bin`, run through `bin/switchboard.js`): one entry point,
 * one module per subcommand, loaded only when it runs (`users` pulls in the stores' drivers). Each reads the
 * environment and `.env` as the gateway does. Exit codes: 0 done, 1 failed, 2 bad usage.
 */
const COMMANDS: Record<string, { readonly summary: string; readonly run: (argv: string[]) => Promise<number> }> = {
  token: {
    summary: 'mint a client token (JWT) with the configured secret, for development',
    run: async (argv) => (await import('./token.js')).tokenCommand(argv),
  },
  'check-config': {
    summary: 'print the effective configuration, secrets masked, and whether the gateway would start',
    run: async (argv) => (await import('./check-config.js')).checkConfigCommand(argv),
  },
  genconfig: {
    summary: 'write a commented .env.example of every variable',
    run: async (argv) => (await import('./genconfig.js')).genconfigCommand(argv),
  },
  users: {
    summary: 'manage the auth service\'s users (add, passwd, disable, enable, list)',
    run: async (argv) => (await import('./users.js')).usersCommand(argv),
  },
};

/** The version in package.json (two folders up from src/cli/ and from dist/cli/ alike). */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return `Usage: switchboard <command> [options]

Commands:
${Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`).join('\n')}

Options:
  -h, --help     this help (switchboard <command> --help: the command's)
  -v, --version  the version

Start the gateway itself with \`npm start\` (or \`node dist/main.js\`). Docs: README.md, docs/.
`;
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (command === undefined) {
    process.stderr.write(`switchboard: unknown command "${first}" (see switchboard --help)\n`);
    return 2;
  }
  return command.run(rest);
}

process.exitCode = await main(process.argv.slice(2));
