import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import Aedes, { type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { describeIdentity, isValidSn, mayPublish, maySubscribe, parseDjiTopic, type Identity } from './acl';
import type { MessageHandler } from './connection';
import type { CredentialStore } from './credentials';
import { announcedSubDevices, SubDeviceRegistry } from './sub-devices';
import { DEFAULT_BROKER_LIMITS, type EmbeddedBrokerLimits } from './broker-limits';
import { listenError } from '../startup-error';
import { coalesceWritesOfTurn } from '../net/turn-writes';

export { DEFAULT_BROKER_LIMITS, type EmbeddedBrokerLimits } from './broker-limits';

/** The embedded broker: what it listens on and how to stop it. */
export interface EmbeddedBroker {
  /** The port it listens on (useful when started on port 0). */
  readonly port: number;
  /** A URL the gateway's own client connects with. */
  readonly url: string;
  /**
   * What the gateway's own client connects with: the reserved client id and a
   * secret made for this process (never logged, never written anywhere).
   */
  readonly gatewayCredentials: { readonly clientId: string; readonly username: string; readonly password: string };
  /** Counters, for tests and metrics. */
  stats(): EmbeddedBrokerStats;
  close(): Promise<void>;
}

/** What the broker has refused or dropped so far, and what it holds. */
export interface EmbeddedBrokerStats {
  readonly connections: number;
  /** Messages not delivered to a subscriber whose queue was full. */
  readonly dropped: number;
  /** Retained messages held. */
  readonly retained: number;
  /** The most messages queued for one subscriber at any time. */
  readonly maxQueued: number;
}

/**
 * Hands the gateway the messages published on some topics as the broker
 * receives them (see {@link startEmbeddedBroker}).
 */
export interface EmbeddedIngest {
  /** Topic filters (`+` and `#` wildcards) whose messages go to {@link onMessage}. */
  readonly filters: readonly string[];
  /**
   * Handles one message; resolves once it is durable. Only then does the
   * publisher get its PUBACK. A rejection closes the publisher's connection
   * without one, so that it sends the message again.
   */
  readonly onMessage: MessageHandler;
}

/** Something the broker refused or dropped, for metrics and logs. */
export type BrokerEvent =
  | { readonly type: 'refused'; readonly action: 'connect' | 'publish' | 'subscribe'; readonly reason: string; readonly who: string }
  | { readonly type: 'dropped'; readonly who: string }
  | { readonly type: 'unretained'; readonly reason: string; readonly who: string };

/** Who may connect and as whom (see README "Security"). */
export interface EmbeddedBrokerSecurity {
  /** Docks' credentials; unset: clients connect without a password (the gateway then listens on loopback only). */
  readonly credentials?: CredentialStore;
  /** The gateway's own client id: reserved for the gateway's client. @default 'ota-gateway' */
  readonly gatewayClientId?: string;
  /**
   * Usernames (client ids, for anonymous clients) that may subscribe to
   * anything but `$SYS` and publish nothing: monitoring, and tests playing a
   * slow subscriber. None by default.
   */
  readonly observers?: readonly string[];
  readonly limits?: Partial<EmbeddedBrokerLimits>;
  readonly logger?: Logger;
  readonly onEvent?: (event: BrokerEvent) => void;
}

/** The parts of an aedes client this module reaches into (aedes 0.51 has no API for them). */
interface AedesClientInternals {
  deliver0: (packet: { qos: number }, callback: () => void) => void;
  deliverQoS: (packet: { qos: number }, callback: () => void) => void;
  _parser: { packet: { length: number }; _parseLength: () => boolean; _emitError: (error: Error) => void };
}

/** What the broker knows of each connection. */
interface ClientState {
  identity: Identity | null;
  /** Messages handed to this client's socket and not written out yet. */
  queued: number;
  /** Set while a delivery is being dropped: authorizeForward then refuses it. */
  dropping: boolean;
  warnedDrop: boolean;
}

/** Refusal log lines per window; beyond, one line says how many were not logged (an attacker must not flood the logs). */
const REFUSAL_LOG_LINES = 20;
const REFUSAL_LOG_WINDOW_MS = 10_000;

/** A warn() that logs at most REFUSAL_LOG_LINES lines per REFUSAL_LOG_WINDOW_MS, then counts. */
function refusalLog(logger: Logger | undefined): (fields: Record<string, unknown>, message: string) => void {
  let windowStart = 0;
  let logged = 0;
  let suppressed = 0;
  return (fields, message) => {
    if (!logger) return;
    const now = Date.now();
    if (now - windowStart >= REFUSAL_LOG_WINDOW_MS) {
      if (suppressed > 0) logger.warn({ suppressed }, 'MQTT refusals not logged in the last window (see ota_mqtt_broker_refused_total)');
      windowStart = now;
      logged = 0;
      suppressed = 0;
    }
    if (logged < REFUSAL_LOG_LINES) {
      logged++;
      logger.warn(fields, message);
    } else suppressed++;
  };
}

/** Longest client id accepted: the broker keeps one entry per client id (MQTT 3.1 allowed 23). */
const MAX_CLIENT_ID_LENGTH = 128;

/** Hooks into the broker's view of its clients. */
export interface EmbeddedBrokerHooks {
  /**
   * Called when a dock's connection is up (`true`, once authenticated) and
   * when it ends (`false`), with the dock's sn (its identity, see
   * `identify`): the fleet inventory's dock presence. Not called for the
   * gateway's own client or observers.
   */
  readonly onClientPresence?: (sn: string, online: boolean, client: object) => void;
}

/** Topics only the broker itself may publish on. */
const SYS_PREFIX = '$SYS/';

const authError = (returnCode: 2 | 4 | 5, message: string): AuthenticateError =>
  Object.assign(new Error(message), { returnCode }) as AuthenticateError;

/**
 * Starts an aedes broker on `host:port`, so that `npm start` alone gives docks
 * somewhere to connect. Its state lives in memory: sessions survive gateway
 * client reconnects, not a restart of the process.
 *
 * With `ingest`, the messages docks publish on its topics reach the gateway
 * inside the broker, before the broker acknowledges them: the dock's PUBACK
 * waits until the message is committed. A broker in the gateway's own memory
 * cannot keep a message the gateway has not stored (a crash takes both), so
 * this is the only acknowledgement that means "stored"; it also spares every
 * message a loopback trip through an MQTT client. A dock's connection reads
 * its next packets only once those already read are acknowledged, which is
 * the backpressure. Other subscribers of those topics still get the messages.
 *
 * Security (`security`): every client is authenticated (a password from the
 * credentials, or, without them, anonymously as its username or client id),
 * and every PUBLISH and SUBSCRIBE is authorized by acl.ts. The gateway's
 * client id is reserved for its own client, which logs in with a secret made
 * here; no client can take over another identity's client id. Limits bound
 * packets, per-subscriber queues, keep-alives, connections and retained
 * messages.
 * @throws StartupError naming MQTT_PORT when the port is taken.
 */
export async function startEmbeddedBroker(
  host: string,
  port: number,
  ingest?: EmbeddedIngest,
  security: EmbeddedBrokerSecurity = {},
  hooks: EmbeddedBrokerHooks = {},
): Promise<EmbeddedBroker> {
  const limits: EmbeddedBrokerLimits = { ...DEFAULT_BROKER_LIMITS, ...security.limits };
  const gatewayClientId = security.gatewayClientId ?? 'ota-gateway';
  const gatewaySecret = randomBytes(32).toString('hex');
  const observers = new Set(security.observers ?? []);
  const credentials = security.credentials;
  const emit = security.onEvent ?? (() => undefined);
  const logger = security.logger;
  const warn = refusalLog(logger);

  const inFlight = new Set<Promise<void>>();
  const ingests = ingest ? topicMatcher(ingest.filters) : () => false;
  const states = new WeakMap<object, ClientState>();
  const stateOf = (client: Client | null): ClientState | undefined => (client ? states.get(client) : undefined);
  const who = (client: Client | null) => {
    const identity = stateOf(client)?.identity;
    return identity ? describeIdentity(identity) : `client ${client?.id ?? '?'}`;
  };
  /** Client id -> the identity that holds it (while connected, or while its persistent session lives). */
  const owners = new Map<string, string>();
  const retainedTopics = new Set<string>();
  const subDevices = new SubDeviceRegistry((sn, claimedBy) => sn === gatewayClientId || (credentials?.isKnownDock(sn) ?? false) || connectedDock(sn, claimedBy));
  let dropped = 0;
  let maxQueued = 0;

  /** True when a dock other than `claimedBy` is connected (or keeps a session) as `sn`. */
  const connectedDock = (sn: string, claimedBy: string): boolean => {
    if (sn === claimedBy) return false;
    for (const owner of owners.values()) if (owner === `dock:${sn}`) return true;
    return false;
  };

  const refuse = (action: 'publish' | 'subscribe', client: Client | null, reason: string, topic: string) => {
    emit({ type: 'refused', action, reason, who: who(client) });
    warn({ who: who(client), topic: topic.slice(0, 200), reason }, `MQTT ${action} refused`);
  };

  const gatewaySecretBuffer = Buffer.from(gatewaySecret, 'utf8');
  const isGatewaySecret = (password: Buffer | undefined) =>
    password !== undefined && password.length === gatewaySecretBuffer.length && timingSafeEqual(password, gatewaySecretBuffer);

  /** Whom a CONNECT speaks for, or why it is refused. */
  const identify = async (clientId: string, username: string | undefined, password: Buffer | undefined): Promise<Identity | AuthenticateError> => {
    if (clientId.length > MAX_CLIENT_ID_LENGTH) return authError(2, `client ids are at most ${MAX_CLIENT_ID_LENGTH} characters`);
    if (clientId === gatewayClientId) {
      return isGatewaySecret(password) ? { kind: 'gateway' } : authError(2, `client id ${clientId} is reserved for the gateway`);
    }
    if (credentials) {
      if (username === undefined) return authError(5, 'anonymous clients are not allowed');
      const sn = await credentials.verify(username, password);
      if (sn === null) return authError(4, 'bad username or password');
      return observers.has(username) ? { kind: 'observer', name: username } : { kind: 'dock', sn };
    }
    // No password file: loopback only (or explicitly opened); a client is who it says it is.
    const name = username ?? clientId;
    if (observers.has(name)) return { kind: 'observer', name };
    if (!isValidSn(name)) return authError(2, `"${name.slice(0, 80)}" is not usable as a dock sn`);
    return { kind: 'dock', sn: name };
  };

  const aedes = new Aedes({
    id: 'ota-gateway-embedded',
    connectTimeout: limits.connectTimeoutMs,
    preConnect: (_client, packet, callback) => {
      // Hold every client to the keep-alive maximum; one asking for none (0) too, so a silent peer is let go.
      if (!packet.keepalive || packet.keepalive > limits.maxKeepaliveSeconds) packet.keepalive = limits.maxKeepaliveSeconds;
      callback(null, true);
    },
    authenticate: (client, username, password, callback) => {
      identify(client.id, username, password).then(
        (result) => {
          if (result instanceof Error) {
            emit({ type: 'refused', action: 'connect', reason: result.message, who: `client ${client.id}` });
            warn({ clientId: client.id.slice(0, 80), username: username?.slice(0, 80), reason: result.message }, 'MQTT connection refused');
            return callback(result, false);
          }
          const key = describeIdentity(result);
          const owner = owners.get(client.id);
          if (owner !== undefined && owner !== key) {
            const reason = `client id ${client.id} belongs to another identity`;
            emit({ type: 'refused', action: 'connect', reason, who: key });
            warn({ clientId: client.id.slice(0, 80), who: key }, 'MQTT connection refused: client id held by another identity');
            return callback(authError(2, reason), false);
          }
          owners.set(client.id, key);
          const live = liveById.get(client.id) ?? new Set<Client>();
          live.add(client);
          liveById.set(client.id, live);
          const state = stateOf(client);
          if (state) state.identity = result;
          callback(null, true);
        },
        (error: unknown) => callback(authError(5, (error as Error).message), false),
      );
    },
    authorizePublish: (client, packet, callback) => {
      if (packet.topic.startsWith(SYS_PREFIX)) return callback(new Error(`${SYS_PREFIX} topic is reserved`));
      const identity = stateOf(client)?.identity;
      // A will left by a client that is gone (client null) is not published.
      if (!identity) return callback(new Error('not authenticated'));
      const scope = identity.kind === 'dock' ? subDevices.scopeOf(identity.sn) : undefined;
      const decision = mayPublish(identity, packet.topic, packet.retain, scope);
      if (!decision.allowed) {
        refuse('publish', client, decision.reason, packet.topic);
        return callback(new Error(decision.reason));
      }
      const payload = packet.payload as Buffer;
      if (packet.retain) boundRetained(client, packet, payload);
      if (identity.kind === 'dock') {
        const topic = parseDjiTopic(packet.topic);
        if (topic?.root === 'sys' && topic.suffix === 'status') {
          const announced = announcedSubDevices(payload);
          if (announced) subDevices.announce(identity.sn, announced);
        }
      }
      if (!ingest || !ingests(packet.topic)) return callback(null);
      const handled = ingest.onMessage(packet.topic, payload, { redelivered: packet.dup === true });
      inFlight.add(handled);
      handled.then(
        () => {
          // The PUBACKs of a committed batch go out together, one write per dock (see coalesceWritesOfTurn).
          if (client) coalesceWritesOfTurn(client.conn as Writable);
          callback(null);
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      ).finally(() => inFlight.delete(handled));
    },
    authorizeSubscribe: (client, subscription, callback) => {
      const identity = stateOf(client)?.identity;
      const scope = identity?.kind === 'dock' ? subDevices.scopeOf(identity.sn) : undefined;
      const decision = identity ? maySubscribe(identity, subscription.topic, scope) : { allowed: false as const, reason: 'not authenticated' };
      if (!decision.allowed) {
        refuse('subscribe', client, decision.reason, subscription.topic);
        // A null subscription is a refusal in the SUBACK (0x80); the connection stays.
        return callback(null, null);
      }
      callback(null, subscription);
    },
    authorizeForward: (client, packet) => (stateOf(client)?.dropping ? null : packet),
  });

  /** Keeps retained messages within count and size: one beyond is delivered but not retained. */
  function boundRetained(client: Client | null, packet: { topic: string; retain: boolean }, payload: Buffer) {
    if (payload.length === 0) {
      retainedTopics.delete(packet.topic); // an empty retained message clears the topic
      return;
    }
    let reason: string | null = null;
    if (payload.length > limits.maxRetainedBytes) reason = `retained payload over ${limits.maxRetainedBytes} bytes`;
    else if (!retainedTopics.has(packet.topic) && retainedTopics.size >= limits.maxRetainedMessages) {
      reason = `already ${limits.maxRetainedMessages} retained messages`;
    }
    if (reason !== null) {
      packet.retain = false;
      emit({ type: 'unretained', reason, who: who(client) });
      return;
    }
    retainedTopics.add(packet.topic);
  }

  /** Client id -> its authenticated connections (two overlap while one takes over from the other). */
  const liveById = new Map<string, Set<Client>>();
  const connectionClosed = (client: Client) => {
    const id = (client as { id: string | null }).id;
    const live = id ? liveById.get(id) : undefined;
    if (!id || !live?.delete(client) || live.size > 0) return;
    liveById.delete(id);
    // A clean session ends with its connection: its client id is free again.
    if (client.clean) owners.delete(id);
  };

  /**
   * Bounds what waits for one subscriber. aedes hands each message to every
   * subscriber and, by default, waits until it is written out to each before
   * the next one goes through (and before the publisher's next packet is
   * read): one subscriber that does not read stalls everyone's PUBACKs. Here
   * the broker moves on at once; what a subscriber has not taken yet counts
   * against its own queue, and beyond the limit further messages are dropped
   * for it alone. (aedes 1.x, ESM-only, adds a `drainTimeout` that
   * disconnects such a client instead: moscajs/aedes#1060.)
   */
  function limitDeliveries(client: Client & AedesClientInternals, socket: Socket, state: ClientState) {
    const original0 = client.deliver0;
    const originalQoS = client.deliverQoS;
    const limited =
      (deliver: (packet: { qos: number }, callback: () => void) => void) =>
      (packet: { qos: number }, callback: () => void): void => {
        if (state.queued >= limits.maxQueuedMessages || socket.writableLength >= limits.maxQueuedBytes) {
          dropped++;
          emit({ type: 'dropped', who: who(client) });
          if (!state.warnedDrop) {
            state.warnedDrop = true;
            logger?.warn({ who: who(client) }, 'MQTT subscriber too slow: messages dropped for it');
          }
          // authorizeForward refuses it, so aedes also clears it from a persistent session's queue.
          state.dropping = true;
          try {
            deliver(packet, callback);
          } finally {
            state.dropping = false;
          }
          return;
        }
        state.queued++;
        if (state.queued > maxQueued) maxQueued = state.queued;
        deliver(packet, () => void state.queued--);
        setImmediate(callback);
      };
    const deliver0 = limited(original0);
    const deliverQoS = limited(originalQoS);
    client.deliver0 = deliver0;
    client.deliverQoS = (packet, callback) => (packet.qos === 0 ? deliver0(packet, callback) : deliverQoS(packet, callback));
  }

  /** Refuses a packet announcing more than the limit before its body is read. */
  function limitPacketSize(client: AedesClientInternals) {
    const parser = client._parser;
    const parseLength = parser._parseLength.bind(parser);
    parser._parseLength = () => {
      const done = parseLength();
      if (done && parser.packet.length > limits.maxPacketBytes) {
        parser._emitError(new Error(`packet of ${parser.packet.length} bytes is over the ${limits.maxPacketBytes}-byte limit`));
        return false;
      }
      return done;
    };
  }

  const perAddress = new Map<string, number>();
  const presence = hooks.onClientPresence;
  if (presence) {
    const dockOf = (client: Client) => {
      const identity = stateOf(client)?.identity;
      return identity?.kind === 'dock' ? identity.sn : null;
    };
    aedes.on('client', (client) => {
      const sn = dockOf(client);
      if (sn !== null) presence(sn, true, client);
    });
    aedes.on('clientDisconnect', (client) => {
      const sn = dockOf(client);
      if (sn !== null) presence(sn, false, client);
    });
  }
  const server: Server = createServer((socket) => {
    // A peer that vanishes mid-packet must not take the process with it.
    socket.on('error', () => socket.destroy());
    const address = socket.remoteAddress ?? '?';
    const open = (perAddress.get(address) ?? 0) + 1;
    if (open > limits.maxConnectionsPerAddress) {
      emit({ type: 'refused', action: 'connect', reason: 'too many connections from one address', who: address });
      warn({ address, limit: limits.maxConnectionsPerAddress }, 'MQTT connection refused: too many from this address');
      socket.destroy();
      return;
    }
    perAddress.set(address, open);
    socket.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
      connectionClosed(client);
    });
    const client = aedes.handle(socket) as unknown as Client & AedesClientInternals;
    const state: ClientState = { identity: null, queued: 0, dropping: false, warnedDrop: false };
    states.set(client, state);
    limitPacketSize(client);
    limitDeliveries(client, socket, state);
  });
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(listenError(error, 'MQTT_PORT', host, port)));
    server.listen(port, host, () => resolve());
  });
  credentials?.watch();
  const actualPort = (server.address() as AddressInfo).port;
  const clientHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    port: actualPort,
    url: `mqtt://${clientHost}:${actualPort}`,
    gatewayCredentials: { clientId: gatewayClientId, username: gatewayClientId, password: gatewaySecret },
    stats: () => ({ connections: aedes.connectedClients, dropped, retained: retainedTopics.size, maxQueued }),
    close: async () => {
      credentials?.stop();
      // Messages being stored still get their PUBACK; then the broker's close ends the docks' sockets.
      await Promise.allSettled([...inFlight]);
      await new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve())));
    },
  };
}

/**
 * A predicate for topics matching any of `filters` (MQTT wildcards: `+` one
 * level, `#` the rest). Topics starting with `$` match no wildcard at the
 * first level, as MQTT 3.1.1 § 4.7.2 says.
 */
export function topicMatcher(filters: readonly string[]): (topic: string) => boolean {
  const patterns = filters.map((filter) => filter.split('/'));
  return (topic) => {
    const levels = topic.split('/');
    return patterns.some((pattern) => {
      for (let i = 0; i < pattern.length; i++) {
        const part = pattern[i];
        if (i === 0 && topic.startsWith('$') && (part === '+' || part === '#')) return false;
        if (part === '#') return true;
        if (i >= levels.length) return false;
        if (part !== '+' && part !== levels[i]) return false;
      }
      return pattern.length === levels.length;
    });
  };
}
