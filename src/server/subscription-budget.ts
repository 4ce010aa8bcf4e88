import { GraphQLError } from 'graphql';
import { ErrorCode } from '../graphql/errors';

/** Caps of a {@link SubscriptionBudget}. */
export interface SubscriptionLimits {
  /** Most subscriptions one socket may hold at once. */
  readonly perSocket: number;
  /** Most objects per event (see operationCost) the subscriptions of one socket may return together. */
  readonly costPerSocket: number;
  /** Most subscriptions one token (principal) may hold across all its sockets. */
  readonly perPrincipal: number;
  /** Most objects per event the subscriptions of one token may return together, across its sockets. */
  readonly costPerPrincipal: number;
}

interface Tally {
  count: number;
  cost: number;
}

/**
 * Prices and caps running subscriptions, per socket and per token across
 * sockets. A subscription is priced by what one event can make it return
 * (its document's list cost): a set too heavy for its socket or its token is
 * refused before it runs, and every refusal says which cap it hit.
 */
export class SubscriptionBudget {
  private readonly sockets = new WeakMap<object, { principal: string; tally: Tally; open: Map<string, number> }>();
  private readonly principals = new Map<string, Tally>();

  constructor(readonly limits: SubscriptionLimits) {}

  /** Takes room for subscription `id` of `socket`, or returns the error to answer it with. */
  acquire(socket: object, principal: string, id: string, cost: number): GraphQLError | null {
    let entry = this.sockets.get(socket);
    if (!entry) {
      entry = { principal, tally: { count: 0, cost: 0 }, open: new Map() };
      this.sockets.set(socket, entry);
    }
    const mine = this.principals.get(principal) ?? { count: 0, cost: 0 };
    const { perSocket, costPerSocket, perPrincipal, costPerPrincipal } = this.limits;
    const refuse = (message: string) => new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN, cost } });
    if (entry.tally.count + 1 > perSocket) return refuse(`At most ${perSocket} subscriptions per socket`);
    if (entry.tally.cost + cost > costPerSocket) {
      return refuse(`The subscriptions of this socket could return about ${entry.tally.cost + cost} objects per event; the limit is ${costPerSocket}. Select less or subscribe to less.`);
    }
    if (mine.count + 1 > perPrincipal) return refuse(`At most ${perPrincipal} subscriptions per API token`);
    if (mine.cost + cost > costPerPrincipal) {
      return refuse(`The subscriptions of this API token could return about ${mine.cost + cost} objects per event; the limit is ${costPerPrincipal}.`);
    }
    entry.open.set(id, cost);
    entry.tally.count += 1;
    entry.tally.cost += cost;
    mine.count += 1;
    mine.cost += cost;
    this.principals.set(principal, mine);
    return null;
  }

  /** Gives back the room of subscription `id`; true if it held some. */
  release(socket: object, id: string): boolean {
    const entry = this.sockets.get(socket);
    const cost = entry?.open.get(id);
    if (!entry || cost === undefined) return false;
    entry.open.delete(id);
    entry.tally.count -= 1;
    entry.tally.cost -= cost;
    const mine = this.principals.get(entry.principal);
    if (mine) {
      mine.count -= 1;
      mine.cost -= cost;
      if (mine.count <= 0) this.principals.delete(entry.principal);
    }
    return true;
  }

  /** Gives back everything a socket held (it closed); returns how many subscriptions that was. */
  releaseAll(socket: object): number {
    const entry = this.sockets.get(socket);
    if (!entry) return 0;
    let released = 0;
    for (const id of [...entry.open.keys()]) if (this.release(socket, id)) released += 1;
    return released;
  }

  /** Subscriptions and cost held by a token across its sockets. */
  usage(principal: string): Readonly<Tally> {
    return { ...(this.principals.get(principal) ?? { count: 0, cost: 0 }) };
  }
}
