/**
 * The ordering rules (decideTransition) over arbitrary report sequences,
 * device clocks and redeliveries, replayed the way the recorder does: a
 * message whose dedupe key was recorded is a duplicate and moves nothing;
 * every other one is decided, applied when the rules say so, and kept in the
 * history either way.
 *
 * Deterministic by default (fixed seed); set FC_SEED to explore other inputs.
 */
import fc from 'fast-check';
import {
  ALL_STATUSES,
  type ObservedReport,
  type SubTaskState,
  UpgradeStatus,
  decideTransition,
  isTerminal,
  lastOccurredAtAfter,
} from '../src/domain';

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261126;
const NOW = Date.UTC(2026, 10, 26, 0, 0, 0);
const DAY = 86_400_000;

/** One message a device sent: its id (dedupe key), status and the time its clock said. */
interface Sent {
  readonly id: number;
  readonly status: UpgradeStatus | null;
  readonly occurredAt: Date | null;
}

/** One delivery to the gateway. */
interface Delivery extends Sent {
  readonly redelivered: boolean;
  readonly receivedAt: Date;
}

interface Replay {
  readonly state: SubTaskState;
  /** Ids of the messages in the history, in the order they were recorded. */
  readonly history: readonly number[];
}

function replay(deliveries: readonly Delivery[]): Replay {
  let state: SubTaskState = { status: UpgradeStatus.PENDING, lastOccurredAt: null, closedByStaleSweep: false };
  const recorded = new Set<number>();
  const history: number[] = [];
  for (const d of deliveries) {
    if (recorded.has(d.id)) continue; // dedupe: a duplicate is in the ledger only
    recorded.add(d.id);
    history.push(d.id);
    const report: ObservedReport = { status: d.status, occurredAt: d.occurredAt, receivedAt: d.receivedAt, redelivered: d.redelivered };
    const decision = decideTransition(state, report);
    if (decision.applied) state = { status: decision.status, lastOccurredAt: lastOccurredAtAfter(state, report), closedByStaleSweep: false };
  }
  return { state, history };
}

const statusArb = fc.constantFrom<UpgradeStatus | null>(...ALL_STATUSES.filter((s) => s !== UpgradeStatus.PENDING), null);

/** A device clock: right, behind, ahead, at 1970, a year ahead, running backwards, or absent (Huawei). */
const clockArb = fc.oneof(
  fc.integer({ min: -2 * DAY, max: 2 * DAY }).map((skew) => (i: number) => new Date(NOW + skew + i * 1000)),
  fc.constant((i: number) => new Date(i * 1000)), // 1970 after a reboot
  fc.constant((i: number) => new Date(NOW + 365 * DAY + i * 1000)),
  fc.constant((i: number) => new Date(NOW - i * 60_000)), // backwards
  fc.constant(() => null),
  // A clock that jumps at some point during the upgrade.
  fc.tuple(fc.nat(20), fc.integer({ min: -400 * DAY, max: 400 * DAY })).map(([at, jump]) => (i: number) => new Date(NOW + (i >= at ? jump : 0) + i * 1000)),
);

/** What a device sent, with its clock. */
const sentArb = fc.tuple(fc.array(statusArb, { minLength: 1, maxLength: 25 }), clockArb).map(([statuses, clock]) =>
  statuses.map((status, id): Sent => ({ id, status, occurredAt: clock(id) })),
);

/** In arrival order, with copies of messages already delivered re-sent anywhere later (flagged or not). */
function withDuplicates(sent: readonly Sent[], copies: readonly (readonly [after: number, of: number, flagged: boolean])[]): Delivery[] {
  const out: Delivery[] = sent.map((s, i) => ({ ...s, redelivered: false, receivedAt: new Date(NOW + i * 1000) }));
  for (const [after, of, flagged] of copies) {
    const at = Math.min(after, out.length);
    if (at === 0) continue;
    // A copy of a message delivered before this point.
    const source = out[of % at];
    out.splice(at, 0, { ...source, redelivered: flagged, receivedAt: new Date(NOW + at * 1000) });
  }
  return out;
}

const copiesArb = fc.array(fc.tuple(fc.nat(30), fc.nat(30), fc.boolean()), { maxLength: 10 });

/** What the device said last: its last terminal report, else its last status. */
function lastWord(sent: readonly Sent[]): UpgradeStatus {
  const terminal = sent.filter((s) => s.status !== null && isTerminal(s.status));
  if (terminal.length > 0) return terminal[terminal.length - 1].status!;
  const withStatus = sent.filter((s) => s.status !== null);
  return withStatus.length > 0 ? withStatus[withStatus.length - 1].status! : UpgradeStatus.PENDING;
}

describe('ordering rules, whatever the device clock', () => {
  it("in arrival order, the device's last terminal report wins (or its last status, when it never ended)", () => {
    fc.assert(
      fc.property(sentArb, copiesArb, (sent, copies) => {
        const { state } = replay(withDuplicates(sent, copies));
        expect(state.status).toBe(lastWord(sent));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('the result does not depend on redeliveries, and every message is in the history once', () => {
    fc.assert(
      fc.property(sentArb, copiesArb, (sent, copies) => {
        const plain = replay(withDuplicates(sent, []));
        const redelivered = replay(withDuplicates(sent, copies));
        expect(redelivered.state).toEqual(plain.state);
        expect(redelivered.history).toEqual(sent.map((s) => s.id));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('with a sane clock, a message first delivered late (its original lost) changes nothing: the result is the in-order one', () => {
    const saneArb = fc.array(statusArb, { minLength: 1, maxLength: 20 }).map((statuses) =>
      statuses.map((status, id): Sent => ({ id, status, occurredAt: new Date(NOW - 60_000 + id * 1000) })),
    );
    // Each message moved later by some steps: its first (and only) delivery is a flagged redelivery.
    const movesArb = fc.array(fc.tuple(fc.nat(19), fc.nat(19)), { maxLength: 6 });
    fc.assert(
      fc.property(saneArb, movesArb, (sent, moves) => {
        const order = sent.map((s) => ({ ...s, redelivered: false }));
        for (const [from, by] of moves) {
          if (from >= order.length) continue;
          const [moved] = order.splice(from, 1);
          order.splice(Math.min(order.length, from + by), 0, { ...moved, redelivered: true });
        }
        const deliveries = order.map((d, i) => ({ ...d, receivedAt: new Date(NOW + i * 1000) }));
        const inOrder = replay(withDuplicates(sent, []));
        const { state, history } = replay(deliveries);
        expect(state.status).toBe(inOrder.state.status);
        expect(state.status).toBe(lastWord(sent));
        expect([...history].sort((a, b) => a - b)).toEqual(sent.map((s) => s.id));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
