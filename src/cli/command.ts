import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DOTENV_UNSUPPORTED, loadDotEnv } from '../config/load-dotenv.js';
import { oneLineMessage } from '../runtime/error-message.js';

/** Bad invocation: exit code 2. */
export class UsageError extends Error {}
/** The command could not be done: exit code 1. */
export class CommandFailed extends Error {}
/** Ctrl-C at a prompt: exit code 130, as a shell reports SIGINT. */
export class Interrupted extends Error {}

/**
 * Runs one `switchboard` subcommand: what it throws becomes `switchboard <name>: <message>` on standard error
 * and the exit code (2 bad usage, 130 interrupted, 1 anything else); 0 when it returns.
 */
export async function runCommand(name: string, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return 0;
  } catch (error) {
    // Our own refusals are written for the reader (some over several lines); anything else gets one line.
    const ours = error instanceof UsageError || error instanceof CommandFailed;
    process.stderr.write(`switchboard ${name}: ${ours ? error.message : oneLineMessage(error)}\n`);
    if (error instanceof UsageError) return 2;
    if (error instanceof Interrupted) return 130;
    return 1;
  }
}

/** `node:util` parseArgs, with its complaints (an unknown option, a missing value) as {@link UsageError}s. */
export function parseCommandLine<const T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * The environment as the gateway would read it here: `.env` of the working directory loaded into
 * `process.env` (variables already set win). Returns the names `.env` added.
 */
export function environmentWithDotEnv(): Set<string> {
  const before = new Set(Object.keys(process.env));
  if (!loadDotEnv()) throw new CommandFailed(DOTENV_UNSUPPORTED);
  return new Set(Object.keys(process.env).filter((name) => !before.has(name)));
}

/** Values of a repeatable option, each also split on commas, trimmed, without empties or repeats. */
export function listOption(values: readonly string[] | undefined): string[] {
  return [...new Set((values ?? []).flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== ''))];
}
