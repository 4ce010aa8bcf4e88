/**
 * The small shared part of the simulators' command lines: `node:util`
 * parseArgs with its errors turned into one readable line, and strict numbers.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` strictly (unknown flags, missing values and positionals are errors). */
export function parseFlags<T extends Options>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const oneLine = message.split('\n').map((line) => line.trim()).join(' ');
    // Node's unknown-option text goes on about positionals; the first sentence says it all.
    throw new UsageError(code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? oneLine.split('. ')[0] : oneLine);
  }
}

/** A whole number written as digits (optionally signed), or a UsageError naming the flag. */
export function integerFlag(flag: string, value: string): number {
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${flag} must be a whole number (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

/** A finite decimal number, or a UsageError naming the flag. */
export function numberFlag(flag: string, value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new UsageError(`--${flag} must be a number (got ${JSON.stringify(value)})`);
  return number;
}

/**
 * Runs a CLI's main: a UsageError prints `<name>: <message>` and the usage
 * on stderr with exit code 2; any other error prints `<name>: <message>` with
 * exit code 1 (no stack trace: these are tools for people).
 */
export async function runCli(name: string, usage: string, main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError) {
      process.stderr.write(`${name}: ${message}\n\n${usage}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${name}: ${message}\n`);
      process.exitCode = 1;
    }
  }
}
