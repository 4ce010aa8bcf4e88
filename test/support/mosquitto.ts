import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Mosquitto is: `MOSQUITTO_BIN`, else the usual install paths; null when absent. */
export function mosquittoBinary(): string | null {
  const candidates = [process.env.MOSQUITTO_BIN, '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto', '/opt/homebrew/sbin/mosquitto'];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

/**
 * Ports handed out by {@link freePort}: below the kernel's ephemeral range
 * (32768 and up on Linux), so that no `listen(0)` and no outgoing connection
 * of another test can take one between the check and the test's own bind;
 * and a band of its own for each jest worker, so that workers never pick the
 * same one. (Port 0 asked of the kernel was the earlier way: closed again
 * before the gateway under test bound it, the port could go to a parallel
 * test's server, which then answered the test in the gateway's stead.)
 */
const PORT_BANDS = { first: 20_000, size: 600, count: 20 };
const handedOut = new Set<number>();

/** A TCP port free on every address when asked, never handed out before by this process (tests start their server right after). */
export async function freePort(): Promise<number> {
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  const band = PORT_BANDS.first + ((Number.isInteger(worker) && worker > 0 ? worker - 1 : 0) % PORT_BANDS.count) * PORT_BANDS.size;
  const start = Math.floor(Math.random() * PORT_BANDS.size);
  for (let i = 0; i < PORT_BANDS.size; i++) {
    const port = band + ((start + i) % PORT_BANDS.size);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port left in ${band}-${band + PORT_BANDS.size - 1}`);
}

/** True when a server could listen on `port` on every address (IPv4) right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Resolves once something accepts TCP connections on `port`; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A private Mosquitto for one test: its own port, folder, persistence and log. */
export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  /** Holds mosquitto.conf, the persistence file and mosquitto.log. */
  readonly dir: string;
  /** True while the process runs. */
  readonly running: boolean;
  /** Starts it again on the same port with the same persistence (after stop or kill). */
  start(): Promise<void>;
  /**
   * Stops it with SIGTERM: Mosquitto writes its persistence file (sessions,
   * subscriptions, queued and in-flight QoS 1 messages) and exits. Waits for
   * the exit (SIGKILL after `timeoutMs`).
   */
  stop(timeoutMs?: number): Promise<void>;
  /** Kills it with SIGKILL: what was not yet autosaved is lost, as in a real crash. */
  kill(): Promise<void>;
  /** Its log so far. */
  log(): string;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

/** Options of {@link startMosquitto}. */
export interface MosquittoOptions {
  /** @default a free port */
  readonly port?: number;
  /** Seconds between persistence autosaves (a kill -9 loses at most this much). @default 1 */
  readonly autosaveSeconds?: number;
  /** Further mosquitto.conf lines. */
  readonly config?: readonly string[];
}

/**
 * Starts a Mosquitto of the test's own on a free port, with persistence in a
 * temporary folder, so the test may stop, kill and restart it. Queues for
 * offline persistent sessions are unbounded (the default of 1000 messages
 * would drop part of a test's stream while its gateway is down).
 * @throws when Mosquitto is not installed (see {@link mosquittoBinary}).
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const binary = mosquittoBinary();
  if (!binary) throw new Error('mosquitto not found: install it or set MOSQUITTO_BIN');
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'ota-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'persistence_file mosquitto.db',
      `autosave_interval ${options.autosaveSeconds ?? 1}`,
      'max_queued_messages 0',
      'max_queued_bytes 0',
      `log_dest file ${join(dir, 'mosquitto.log')}`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'connection_messages true',
      // Run as root (CI containers), Mosquitto drops to user `mosquitto`, which cannot write this folder.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      // MOSQUITTO_LOG_ALL=1: every packet in mosquitto.log (keep it with KEEP_FAULT_DIRS=1).
      ...(process.env.MOSQUITTO_LOG_ALL ? ['log_type all'] : []),
      ...(options.config ?? []),
      '',
    ].join('\n'),
  );

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    if (child) throw new Error('mosquitto already running');
    const started = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    started.stderr?.on('data', (d) => (stderr += d));
    child = started;
    exited = new Promise<void>((resolve) =>
      started.once('exit', () => {
        if (child === started) child = null;
        resolve();
      }),
    );
    try {
      await Promise.race([
        waitForPort(port, 10_000),
        exited.then(() => Promise.reject(new Error(`mosquitto exited at start: ${stderr.trim()} ${readLog()}`))),
      ]);
    } catch (error) {
      started.kill('SIGKILL');
      throw error;
    }
  };

  const signal = async (name: NodeJS.Signals, timeoutMs: number) => {
    const running = child;
    if (!running) return;
    running.kill(name);
    const timer = setTimeout(() => running.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  };

  const readLog = () => {
    try {
      return readFileSync(join(dir, 'mosquitto.log'), 'utf8');
    } catch {
      return '';
    }
  };

  await start();
  const broker: Mosquitto = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    get running() {
      return child !== null;
    },
    start,
    stop: (timeoutMs = 10_000) => signal('SIGTERM', timeoutMs),
    kill: () => signal('SIGKILL', 0),
    log: readLog,
    async dispose() {
      await signal('SIGTERM', 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return broker;
}

/**
 * `describe` when Mosquitto is installed. Otherwise `describe.skip` with the
 * reason, except under CI=true, where the suite runs and fails loudly (a CI job
 * that silently skips its fault tests proves nothing).
 */
export function describeWithMosquitto(): jest.Describe {
  if (mosquittoBinary() !== null || /^(true|1)$/i.test(process.env.CI ?? '')) return describe;
  return ((name: string, fn: jest.EmptyFunction) =>
    describe.skip(`${name} [skipped: mosquitto not installed; set MOSQUITTO_BIN]`, fn)) as unknown as jest.Describe;
}

/** A private broker, a folder and the gateway processes of one fault test. */
export interface FaultStage {
  readonly broker: Mosquitto;
  readonly dir: string;
  /** Processes to kill when the stage ends; push what you start. */
  readonly gateways: { child: ChildProcess }[];
  /** Kills the gateways and removes broker and folder (kept, and printed, with KEEP_FAULT_DIRS). */
  dispose(): Promise<void>;
}

/** Sets up a {@link FaultStage}; `prefix` names its temporary folder. */
export async function openFaultStage(prefix: string): Promise<FaultStage> {
  const broker = await startMosquitto();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const gateways: { child: ChildProcess }[] = [];
  return {
    broker,
    dir,
    gateways,
    async dispose() {
      for (const g of gateways.splice(0)) g.child.kill('SIGKILL');
      if (process.env.KEEP_FAULT_DIRS) {
        await broker.stop();
        console.log(`kept: ${dir} ${broker.dir}`);
      } else {
        await broker.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
