import mqtt, { type MqttClient } from 'mqtt';
import { performance } from 'node:perf_hooks';
import { withTimeout } from './proc';

/** One message to publish. */
export interface Outgoing {
  readonly topic: string;
  readonly payload: Buffer;
}

/**
 * Connects an MQTT 3.1.1 client to `url` and waits for CONNACK. `username`:
 * the dock it publishes as (the gateway's broker lets a client publish only
 * under its own dock's topics).
 */
export async function connectMqtt(url: string, clientId: string, timeoutMs = 10_000, username?: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId, username, clean: true, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: timeoutMs });
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
        client.once('close', () => reject(new Error(`MQTT connection to ${url} closed`)));
      }),
      timeoutMs,
      `an MQTT connection to ${url}`,
    );
  } catch (error) {
    client.end(true);
    throw error;
  }
  return client;
}

/** Publishes `messages` at QoS 1 keeping at most `window` unacknowledged; resolves when all are acknowledged. */
export function publishWindowed(client: MqttClient, messages: readonly Outgoing[], window: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let inFlight = 0;
    let acked = 0;
    let failed = false;
    const pump = () => {
      while (!failed && inFlight < window && next < messages.length) {
        const message = messages[next++];
        inFlight++;
        client.publish(message.topic, message.payload, { qos: 1 }, (error) => {
          inFlight--;
          if (error) {
            failed = true;
            reject(error);
            return;
          }
          if (++acked === messages.length) resolve();
          else pump();
        });
      }
    };
    if (messages.length === 0) resolve();
    else pump();
  });
}

/**
 * Publishes every message through `lanes` (one list per connected client) at
 * once; resolves with when the first was sent and when the last was acknowledged.
 */
export async function publishAll(
  clients: readonly MqttClient[],
  lanes: readonly (readonly Outgoing[])[],
  window: number,
  timeoutMs: number,
): Promise<{ startedAt: number; ackedAt: number }> {
  const startedAt = performance.now();
  await withTimeout(
    Promise.all(clients.map((client, i) => publishWindowed(client, lanes[i] ?? [], window))),
    timeoutMs,
    'the broker to acknowledge every publish',
  );
  return { startedAt, ackedAt: performance.now() };
}

export async function endAll(clients: readonly MqttClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
}
