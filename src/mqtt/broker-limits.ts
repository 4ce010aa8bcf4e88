/** The broker's bounds; each is a configuration variable (see config.ts and the README). */
export interface EmbeddedBrokerLimits {
  /** Largest MQTT packet read; a client announcing a larger one is disconnected before it is read. */
  readonly maxPacketBytes: number;
  /** Messages queued for one subscriber beyond which further ones are dropped for it (and only it). */
  readonly maxQueuedMessages: number;
  /** Bytes waiting in one subscriber's socket beyond which further messages are dropped for it. */
  readonly maxQueuedBytes: number;
  /** Longest keep-alive granted, in seconds; a client asking for more, or for none (0), is held to it. */
  readonly maxKeepaliveSeconds: number;
  /** Connections open at once from one IP address. */
  readonly maxConnectionsPerAddress: number;
  /** Connections open at once in all. */
  readonly maxConnections: number;
  /** Retained messages held in all; beyond it a retained message is delivered but not retained. */
  readonly maxRetainedMessages: number;
  /** Largest retained payload; a larger one is delivered but not retained. */
  readonly maxRetainedBytes: number;
  /** How long a new connection may take to send CONNECT. */
  readonly connectTimeoutMs: number;
}

/** Safe defaults (README "Security"). */
export const DEFAULT_BROKER_LIMITS: EmbeddedBrokerLimits = Object.freeze({
  // The 256 KiB payload the DJI ingest accepts, plus room for the topic and the headers.
  maxPacketBytes: 256 * 1024 + 1024,
  maxQueuedMessages: 1000,
  maxQueuedBytes: 8 * 1024 * 1024,
  maxKeepaliveSeconds: 300,
  maxConnectionsPerAddress: 100,
  maxConnections: 10_000,
  maxRetainedMessages: 1000,
  maxRetainedBytes: 16 * 1024,
  connectTimeoutMs: 10_000,
});

