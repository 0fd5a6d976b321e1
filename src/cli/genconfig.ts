import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ENV_EXAMPLE_HEADER, renderEnvExample } from '../config/env-example.js';
import { CommandFailed, parseCommandLine, runCommand } from './command.js';

const USAGE = `Usage: switchboard genconfig [--out <file>] [--force]

Writes a commented .env.example: every variable the gateway reads, with its description and default, all
commented out. Copy it to .env and uncomment what you change.

Options:
  --out <file>   where to write it (default .env.example; - for standard output)
  --force        overwrite <file> even if it is not a generated .env.example (never needed for one)
`;

/** `switchboard genconfig …`: the exit code. */
export function genconfigCommand(argv: string[]): Promise<number> {
  return runCommand('genconfig', async () => {
    const { values } = parseCommandLine({
      args: argv,
      strict: true,
      options: { out: { type: 'string', default: '.env.example' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help === true) {
      process.stdout.write(USAGE);
      return;
    }
    const text = renderEnvExample();
    if (values.out === '-') {
      process.stdout.write(text);
      return;
    }
    // A .env (or any file of the operator's) may hold secrets: only a file this command wrote is replaced.
    if (existsSync(values.out) && values.force !== true && !readFileSync(values.out, 'utf8').startsWith(ENV_EXAMPLE_HEADER)) {
      throw new CommandFailed(`${values.out} exists and was not written by genconfig: not overwritten (--force to replace it)`);
    }
    writeFileSync(values.out, text);
    process.stderr.write(`wrote ${values.out}: copy it to .env and uncomment what you change\n`);
  });
}
