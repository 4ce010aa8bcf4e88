/**
 * A failure to start that the operator can fix (a port in use, a bad setting).
 * The process prints its message as one line and exits 1, without a stack trace.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** Turns a listen error into a {@link StartupError} naming the variable that sets the port. */
export function listenError(error: unknown, variable: string, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE') {
    // The embedded broker's port is often taken by a broker already running (Mosquitto): the gateway can use that one.
    const alternative = variable === 'MQTT_PORT' ? `, or set MQTT_URL (e.g. mqtt://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}) to use the broker already there instead of the embedded one` : '';
    return new StartupError(`${variable}=${port} is already in use on ${host}: stop what holds it or set ${variable} to a free port${alternative}`, { cause: error });
  }
  if (code === 'EACCES') {
    return new StartupError(`${variable}=${port} on ${host} needs privileges this process lacks: set ${variable} to a port above 1023`, { cause: error });
  }
  if (code === 'EADDRNOTAVAIL') {
    return new StartupError(`cannot listen on ${host}:${port} (${variable}): the address is not on this machine`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}
