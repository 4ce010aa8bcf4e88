/**
 * What the simulators print: one line per message sent or received, and
 * warnings. Injectable so tests can collect the lines instead.
 */

/** Where a simulator writes its lines. */
export interface SimulatorOutput {
  /** One line about something sent or received. */
  info(line: string): void;
  /** Something that went wrong (a missing reply, a refused push). */
  warn(line: string): void;
}

/** `12:00:01.234`: local wall-clock time, enough to follow a run. */
function clock(date = new Date()): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** Lines on stdout, warnings on stderr, each prefixed with the time. */
export const consoleOutput: SimulatorOutput = {
  info: (line) => process.stdout.write(`${clock()} ${line}\n`),
  warn: (line) => process.stderr.write(`${clock()} WARNING ${line}\n`),
};

/** Prints nothing. */
export const silentOutput: SimulatorOutput = { info: () => undefined, warn: () => undefined };

/** Collects the lines (for tests); `lines` holds both kinds, warnings prefixed with `WARNING `. */
export function collectingOutput(): SimulatorOutput & { readonly lines: string[]; readonly warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  return {
    lines,
    warnings,
    info: (line) => void lines.push(line),
    warn: (line) => {
      warnings.push(line);
      lines.push(`WARNING ${line}`);
    },
  };
}
