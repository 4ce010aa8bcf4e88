import fc from 'fast-check';
import { UpgradeStatus } from '../src/domain';
import { parseFleetArgs } from '../src/simulators/fleet';
import {
  BUSY_ERROR_CODES,
  EMPTY_COUNTS,
  RolloutPauseReason as Reason,
  RolloutStateError,
  RolloutStatus as RS,
  RolloutTargetStatus as TS,
  afterTargetsEnded,
  applyCommand,
  attemptOutcome,
  attemptTimedOut,
  countsAfterCommand,
  failureThresholdExceeded,
  moveCounts,
  planDispatch,
  progressOf,
  type RolloutCounts,
  type RolloutSettings,
} from '../src/rollouts/domain';

const settings: RolloutSettings = {
  maxInProgress: 10,
  maxFailurePercentage: 10,
  minFinishedBeforeThreshold: 5,
  attemptsPerDevice: 2,
  attemptTimeoutSeconds: 1800,
};
const counts = (c: Partial<RolloutCounts>): RolloutCounts => {
  const base = { ...EMPTY_COUNTS, ...c };
  return { ...base, total: c.total ?? base.queued + base.inProgress + base.succeeded + base.failed + base.skipped + base.canceled };
};

describe('attempts', () => {
  it.each([...BUSY_ERROR_CODES])('busy %s queues again without spending the attempt', (code) => {
    for (const status of [UpgradeStatus.REJECTED, UpgradeStatus.FAILED]) {
      const outcome = attemptOutcome({ status, errorCode: code }, 2, 2);
      expect(outcome).toMatchObject({ status: TS.QUEUED, attempts: 1, busy: true });
      expect(outcome.lastError).toContain(code);
    }
  });

  it.each([
    [UpgradeStatus.FAILED, '312022'],
    [UpgradeStatus.REJECTED, '312012'],
    [UpgradeStatus.TIMED_OUT, null],
    [UpgradeStatus.CANCELED, null],
  ])('%s (%s) spends an attempt: queued again while attempts remain, FAILED after the last', (status, errorCode) => {
    expect(attemptOutcome({ status, errorCode }, 1, 2)).toMatchObject({ status: TS.QUEUED, attempts: 1, busy: false });
    expect(attemptOutcome({ status, errorCode }, 2, 2)).toMatchObject({ status: TS.FAILED, attempts: 2, busy: false });
  });

  it('SUCCEEDED ends the target', () => {
    expect(attemptOutcome({ status: UpgradeStatus.SUCCEEDED, errorCode: null }, 1, 2)).toEqual({ status: TS.SUCCEEDED, attempts: 1, busy: false, lastError: null });
  });

  it('an attempt that has not ended has no outcome', () => {
    expect(() => attemptOutcome({ status: UpgradeStatus.IN_PROGRESS, errorCode: null }, 1, 2)).toThrow(RangeError);
  });

  it('times out after attemptTimeoutSeconds', () => {
    const start = new Date('2026-11-25T00:00:00Z');
    expect(attemptTimedOut(start, new Date(start.getTime() + 29_999), 30)).toBe(false);
    expect(attemptTimedOut(start, new Date(start.getTime() + 30_000), 30)).toBe(true);
  });

  it('property: a device is never tried more than attemptsPerDevice times for failures, whatever busy answers come between', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.constantFrom<[UpgradeStatus, string | null]>([UpgradeStatus.FAILED, '1'], [UpgradeStatus.REJECTED, '312015'], [UpgradeStatus.TIMED_OUT, null], [UpgradeStatus.FAILED, '312704']), { maxLength: 30 }),
        (perDevice, ends) => {
          let attempts = 0;
          let failures = 0;
          for (const [status, errorCode] of ends) {
            attempts += 1; // sent
            const outcome = attemptOutcome({ status, errorCode }, attempts, perDevice);
            attempts = outcome.attempts;
            if (!outcome.busy) failures += 1;
            expect(attempts).toBe(failures);
            if (outcome.status === TS.FAILED) {
              expect(failures).toBe(perDevice);
              return;
            }
            expect(failures).toBeLessThan(perDevice);
          }
        },
      ),
    );
  });
});

describe('the failure brake and completion', () => {
  it('does not judge before minFinishedBeforeThreshold targets finished', () => {
    expect(failureThresholdExceeded(counts({ failed: 4, queued: 10 }), settings)).toBe(false);
    expect(failureThresholdExceeded(counts({ failed: 5, queued: 10 }), settings)).toBe(true);
  });

  it('trips strictly above maxFailurePercentage of the finished', () => {
    expect(failureThresholdExceeded(counts({ succeeded: 9, failed: 1 }), settings)).toBe(false); // 10 %
    expect(failureThresholdExceeded(counts({ succeeded: 8, failed: 1 }), settings)).toBe(true); // 11.1 %
    expect(failureThresholdExceeded(counts({ succeeded: 0, failed: 10, skipped: 100 }), { ...settings, maxFailurePercentage: 100 })).toBe(false);
  });

  it('a new failure over the threshold pauses a RUNNING rollout with FAILURE_THRESHOLD', () => {
    const state = { status: RS.RUNNING, pauseReason: null, counts: counts({ succeeded: 4, failed: 2, queued: 5 }) };
    expect(afterTargetsEnded(state, settings, true)).toEqual({ status: RS.PAUSED, pauseReason: Reason.FAILURE_THRESHOLD });
    expect(afterTargetsEnded(state, settings, false)).toEqual({ status: RS.RUNNING, pauseReason: null });
  });

  it('nothing queued or in flight: COMPLETED, even after the last failure', () => {
    const state = { status: RS.RUNNING, pauseReason: null, counts: counts({ succeeded: 4, failed: 6 }) };
    expect(afterTargetsEnded(state, settings, true)).toEqual({ status: RS.COMPLETED, pauseReason: null });
    expect(afterTargetsEnded({ ...state, status: RS.PAUSED, pauseReason: Reason.MANUAL }, settings, false).status).toBe(RS.COMPLETED);
  });

  it('a CANCELED rollout stays CANCELED while its last targets end', () => {
    const state = { status: RS.CANCELED, pauseReason: null, counts: counts({ succeeded: 1, canceled: 9 }) };
    expect(afterTargetsEnded(state, settings, false).status).toBe(RS.CANCELED);
  });

  it('progress counts every target that reached an end', () => {
    expect(progressOf(counts({ succeeded: 1, failed: 1, skipped: 1, canceled: 1, queued: 4 }))).toBe(50);
    expect(progressOf(counts({ inProgress: 3 }))).toBe(0);
  });
});

describe('operator commands', () => {
  const state = (status: RS, c: Partial<RolloutCounts> = { queued: 3 }) => ({ status, pauseReason: null, counts: counts(c) });

  it.each([
    ['start', RS.SCHEDULED, RS.RUNNING],
    ['pause', RS.RUNNING, RS.PAUSED],
    ['resume', RS.PAUSED, RS.RUNNING],
    ['cancel', RS.SCHEDULED, RS.CANCELED],
    ['cancel', RS.RUNNING, RS.CANCELED],
    ['cancel', RS.PAUSED, RS.CANCELED],
  ] as const)('%s: %s → %s', (command, from, to) => {
    expect(applyCommand(command, state(from)).status).toBe(to);
  });

  it.each([
    ['start', RS.RUNNING],
    ['pause', RS.COMPLETED],
    ['pause', RS.PAUSED],
    ['pause', RS.SCHEDULED],
    ['resume', RS.RUNNING],
    ['resume', RS.CANCELED],
    ['cancel', RS.COMPLETED],
    ['cancel', RS.CANCELED],
    ['retryFailures', RS.CANCELED],
  ] as const)('%s on a %s rollout is refused with a code', (command, from) => {
    let error: unknown;
    try {
      applyCommand(command, state(from, { failed: 1 }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RolloutStateError);
    expect((error as RolloutStateError).code).toBe('ROLLOUT_STATE_CONFLICT');
    expect((error as RolloutStateError).message).toContain(from);
  });

  it('cancel turns the queue CANCELED and leaves what is in flight to finish', () => {
    const effect = applyCommand('cancel', state(RS.RUNNING, { queued: 5, inProgress: 2, succeeded: 1 }));
    expect(countsAfterCommand(counts({ queued: 5, inProgress: 2, succeeded: 1 }), effect)).toEqual(counts({ canceled: 5, inProgress: 2, succeeded: 1 }));
  });

  it('retryFailures queues the failures again, and a COMPLETED rollout runs again', () => {
    const c = { succeeded: 3, failed: 2 };
    const effect = applyCommand('retryFailures', state(RS.COMPLETED, c));
    expect(effect.status).toBe(RS.RUNNING);
    expect(countsAfterCommand(counts(c), effect)).toEqual(counts({ succeeded: 3, queued: 2 }));
    const paused = applyCommand('retryFailures', { status: RS.PAUSED, pauseReason: Reason.FAILURE_THRESHOLD, counts: counts({ failed: 2, queued: 1 }) });
    expect(paused).toMatchObject({ status: RS.PAUSED, pauseReason: Reason.FAILURE_THRESHOLD });
    expect(() => applyCommand('retryFailures', state(RS.COMPLETED, { succeeded: 3 }))).toThrow(RolloutStateError);
  });
});

describe('planDispatch', () => {
  const target = (id: number, deviceId: string, gatewaySn: string) => ({ id, deviceId, gatewaySn });

  it('sends a dock and its aircraft in one ota_create, never two to one dock, none to a busy dock', () => {
    const queued = [target(1, 'D1', 'D1'), target(2, 'D2', 'D2'), target(3, 'A1', 'D1'), target(4, 'D3', 'D3'), target(5, 'A3', 'D3')];
    const plan = planDispatch(queued, new Set(['D2']), 10);
    expect(plan).toEqual([
      { gatewaySn: 'D1', targets: [queued[0], queued[2]] },
      { gatewaySn: 'D3', targets: [queued[3], queued[4]] },
    ]);
  });

  it('property: never more than the room, at most two per dock, one group per dock, none to busy docks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 3 })), { maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 4 }),
        fc.integer({ min: 0, max: 12 }),
        (rows, busy, room) => {
          const seen = new Set<string>();
          const queued = rows
            .map(([dock, sub], i) => target(i, sub === 0 ? `D${dock}` : `A${dock}-${sub}`, `D${dock}`))
            .filter((t) => !seen.has(t.deviceId) && seen.add(t.deviceId));
          const busyDocks = new Set(busy.map((b) => `D${b}`));
          const plan = planDispatch(queued, busyDocks, room);
          const planned = plan.flatMap((g) => g.targets);
          expect(planned.length).toBeLessThanOrEqual(room);
          expect(new Set(plan.map((g) => g.gatewaySn)).size).toBe(plan.length);
          for (const group of plan) {
            expect(group.targets.length).toBeGreaterThanOrEqual(1);
            expect(group.targets.length).toBeLessThanOrEqual(2);
            expect(busyDocks.has(group.gatewaySn)).toBe(false);
            for (const t of group.targets) expect(t.gatewaySn).toBe(group.gatewaySn);
          }
          // The pipe is kept full: a free dock with a queued target is left out only when the room is used up.
          const free = new Set(queued.filter((t) => !busyDocks.has(t.gatewaySn)).map((t) => t.gatewaySn));
          if (planned.length < room) expect(plan.length).toBe(free.size);
        },
      ),
    );
  });
});

describe('counts', () => {
  it('property: any sequence of moves keeps the total and never goes negative where the model allows it', () => {
    const statuses = Object.values(TS);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.array(fc.tuple(fc.constantFrom(...statuses), fc.constantFrom(...statuses)), { maxLength: 100 }), (n, moves) => {
        let c = counts({ queued: n });
        const model = new Map<TS, number>(statuses.map((s) => [s, s === TS.QUEUED ? n : 0]));
        for (const [from, to] of moves) {
          if ((model.get(from) ?? 0) === 0) continue;
          model.set(from, model.get(from)! - 1);
          model.set(to, model.get(to)! + 1);
          c = moveCounts(c, from, to);
        }
        expect(c.queued + c.inProgress + c.succeeded + c.failed + c.skipped + c.canceled).toBe(n);
        expect(c).toEqual(counts({ queued: model.get(TS.QUEUED), inProgress: model.get(TS.IN_PROGRESS), succeeded: model.get(TS.SUCCEEDED), failed: model.get(TS.FAILED), skipped: model.get(TS.SKIPPED), canceled: model.get(TS.CANCELED), total: n }));
      }),
    );
  });
});

describe('simulate:fleet rollout options', () => {
  it('--fail-rate, --busy-rate and --upgrade-seconds', () => {
    const parsed = parseFleetArgs(['--docks', '3', '--fail-rate', '0.1', '--busy-rate', '0.2', '--upgrade-seconds', '30']);
    expect(parsed).toMatchObject({ help: false, options: { failRate: 0.1, busyRate: 0.2, upgradeSeconds: 30 } });
    expect(() => parseFleetArgs(['--docks', '3', '--fail-rate', '2'])).toThrow(/--fail-rate must be a share/);
    expect(() => parseFleetArgs(['--docks', '3', '--upgrade-seconds', '0'])).toThrow(/--upgrade-seconds/);
  });
});
