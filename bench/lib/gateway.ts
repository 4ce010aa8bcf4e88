import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, trackDir } from './cleanup';
import { keepAliveAgent, send } from './http';
import { type Child, REPO_ROOT, freePort, spawnNode, until, withTimeout } from './proc';

/** A gateway process the bench started (`node dist/src/server.js`). */
export interface GatewayProcess {
  readonly child: Child;
  readonly pid: number;
  readonly port: number;
  readonly mqttPort: number;
  readonly mqttUrl: string;
  readonly wsUrl: string;
  readonly dir: string;
  /** Prometheus text of /metrics. */
  metrics(): Promise<string>;
  /** Stops the process (SIGTERM, graceful) and removes its folder unless it was given one. */
  stop(): Promise<void>;
}

export interface GatewayStartOptions {
  /** Use this folder (holding bench.sqlite) instead of a fresh temporary one; it is not removed. */
  readonly dir?: string;
  /** Write a V8 CPU profile of the gateway into this folder. */
  readonly cpuProfileDir?: string;
  readonly label: string;
  /** More environment for the gateway (a scenario's limits). */
  readonly env?: Readonly<Record<string, string>>;
}

const SERVER = join(REPO_ROOT, 'dist', 'src', 'server.js');

/** Makes a temporary folder that cleanup removes. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ota-bench-${prefix}-`));
  trackDir(dir);
  return dir;
}

/**
 * Starts the gateway as production runs it: its own process, its own SQLite
 * file, the embedded broker, on free loopback ports. Resolves once /readyz says ready.
 */
export async function startGatewayProcess(options: GatewayStartOptions): Promise<GatewayProcess> {
  // The ports are free when picked, but another process may take one before
  // the gateway binds it: then the gateway exits at once, and is tried again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      const portTaken = /PORT|EADDRINUSE/.test(String((error as Error)?.message));
      if (!portTaken || attempt >= 3) throw error;
    }
  }
}

async function startOnce(options: GatewayStartOptions): Promise<GatewayProcess> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? tempDir(options.label);
  const port = await freePort();
  let mqttPort = await freePort();
  for (let i = 0; mqttPort === port && i < 10; i++) mqttPort = await freePort();
  // For experiments (e.g. `-r ./preload.js`, `--max-semi-space-size=64`); not used by default.
  const nodeArgs: string[] = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  if (options.cpuProfileDir) {
    mkdirSync(options.cpuProfileDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`, `--cpu-prof-name=gateway-${options.label}.cpuprofile`);
  }
  const child = spawnNode(`gateway (${options.label})`, SERVER, {
    nodeArgs,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      DATABASE_URL: `sqlite:${join(dir, 'bench.sqlite')}`,
      MQTT_CLIENT_ID: `ota-gateway-bench-${process.pid}`,
      BENCH_ORPHAN_DIR: dir,
      ...options.env,
    },
  });
  const agent = keepAliveAgent(2);
  const stop = async () => {
    agent.destroy();
    await child.stop();
    if (ownDir) removeDir(dir);
  };
  try {
    await withTimeout(
      Promise.race([
        until(
          async () => {
            try {
              return (await send(agent, port, 'GET', '/readyz', undefined, {}, 2_000)).status === 200;
            } catch {
              return false;
            }
          },
          30_000,
          'the gateway to be ready',
          100,
        ),
        child.exited,
      ]),
      31_000,
      'the gateway to start',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    child,
    pid: child.pid,
    port,
    mqttPort,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    dir,
    async metrics() {
      const result = await send(agent, port, 'GET', '/metrics');
      return result.body;
    },
    stop,
  };
}

/**
 * Runs `work` with a gateway; when it fails, the error carries the last lines
 * the gateway logged (it logs at warn), which usually say why.
 */
export async function explainFailure<T>(gw: GatewayProcess, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw await withGatewayLog(gw, error);
  }
}

/** `error` with the last lines the gateway logged appended to its message. */
export async function withGatewayLog(gw: GatewayProcess, error: unknown): Promise<unknown> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  const log = gw.child.output().split('\n').slice(-10).join('\n').slice(-4000);
  if (error instanceof Error && log) error.message += `\n--- last lines logged by the gateway ---\n${log}`;
  return error;
}

/** A value of a Prometheus text exposition (first sample matching `name`, no labels), or NaN. */
export function metricValue(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+|NaN)$`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

/** The writer's batches since start, from the recorder histograms. */
export function writerStats(text: string): { batches: number; units: number; commitSeconds: number } {
  return {
    batches: metricValue(text, 'ota_recorder_batch_size_count'),
    units: metricValue(text, 'ota_recorder_batch_size_sum'),
    commitSeconds: metricValue(text, 'ota_recorder_commit_seconds_sum'),
  };
}
