import {
  IgnoreReason,
  UpgradeStatus as S,
  clampPercent,
  countStatuses,
  decideTransition,
  deriveTaskProgress,
  deriveTaskStatus,
  isTerminal,
  reportedChanges,
  tallyOf,
} from '../src/domain';

const t = (ms: number) => new Date(Date.UTC(2026, 10, 21, 12, 0, 0, ms));

describe('decideTransition', () => {
  it.each([
    ['a first observation applies', S.PENDING, null, S.SENT, 10, { applied: true, status: S.SENT }],
    ['a newer observation applies', S.IN_PROGRESS, 5, S.PAUSED, 10, { applied: true, status: S.PAUSED }],
    ['an observation at the same time applies (receive order)', S.IN_PROGRESS, 10, S.SUCCEEDED, 10, { applied: true, status: S.SUCCEEDED }],
    ['an older observation moves nothing', S.IN_PROGRESS, 10, S.SENT, 5, { applied: false, reason: IgnoreReason.STALE }],
    ['an observation without status moves nothing', S.IN_PROGRESS, 5, null, 10, { applied: false, reason: IgnoreReason.NO_STATUS }],
  ] as const)('%s', (_name, status, last, observed, at, expected) => {
    const decision = decideTransition(
      { status, lastOccurredAt: last === null ? null : t(last) },
      { status: observed, occurredAt: t(at) },
    );
    expect(decision).toEqual(expected);
  });

  it.each([S.SUCCEEDED, S.FAILED, S.CANCELED, S.REJECTED, S.TIMED_OUT])('%s is never left, by newer or older observations', (terminal) => {
    for (const observed of Object.values(S)) {
      for (const at of [5, 20]) {
        expect(decideTransition({ status: terminal, lastOccurredAt: t(10) }, { status: observed, occurredAt: t(at) })).toEqual({
          applied: false,
          reason: IgnoreReason.TERMINAL,
        });
      }
    }
  });

  it('a TIMED_OUT set by the stale sweeper yields to a newer real observation, not an older one', () => {
    const swept = { status: S.TIMED_OUT, lastOccurredAt: t(10), closedByStaleSweep: true };
    expect(decideTransition(swept, { status: S.IN_PROGRESS, occurredAt: t(20) })).toEqual({ applied: true, status: S.IN_PROGRESS });
    expect(decideTransition(swept, { status: S.IN_PROGRESS, occurredAt: t(5) })).toEqual({ applied: false, reason: IgnoreReason.TERMINAL });
    expect(decideTransition(swept, { status: null, occurredAt: t(20) })).toEqual({ applied: false, reason: IgnoreReason.TERMINAL });
  });
});

describe('deriveTaskStatus', () => {
  it.each([
    ['no sub-task yet', [], S.PENDING],
    ['all in one status', [S.SENT, S.SENT], S.SENT],
    ['all paused', [S.PAUSED, S.PAUSED], S.PAUSED],
    ['some open and some moving', [S.PENDING, S.IN_PROGRESS], S.IN_PROGRESS],
    ['one done, one still going', [S.SUCCEEDED, S.IN_PROGRESS], S.IN_PROGRESS],
    ['all succeeded', [S.SUCCEEDED, S.SUCCEEDED], S.SUCCEEDED],
    ['failed is the worst outcome', [S.SUCCEEDED, S.CANCELED, S.FAILED, S.TIMED_OUT], S.FAILED],
    ['timed out beats rejected', [S.REJECTED, S.TIMED_OUT, S.SUCCEEDED], S.TIMED_OUT],
    ['rejected beats canceled', [S.CANCELED, S.REJECTED], S.REJECTED],
    ['canceled beats success', [S.CANCELED, S.SUCCEEDED], S.CANCELED],
  ] as const)('%s', (_name, statuses, expected) => {
    expect(deriveTaskStatus(countStatuses(statuses))).toBe(expected);
  });
});

describe('deriveTaskProgress', () => {
  it('is the rounded mean, a succeeded sub-task counting 100 and a missing progress 0', () => {
    expect(deriveTaskProgress(tallyOf([]))).toBeNull();
    expect(deriveTaskProgress(tallyOf([{ status: S.IN_PROGRESS, progress: 50 }]))).toBe(50);
    expect(deriveTaskProgress(tallyOf([{ status: S.SUCCEEDED, progress: 40 }, { status: S.IN_PROGRESS, progress: 33 }]))).toBe(67);
    expect(deriveTaskProgress(tallyOf([{ status: S.PENDING, progress: null }, { status: S.IN_PROGRESS, progress: 25 }]))).toBe(13);
  });
});

describe('helpers', () => {
  it('terminal statuses are exactly the five ends', () => {
    expect(Object.values(S).filter(isTerminal).sort()).toEqual([S.CANCELED, S.FAILED, S.REJECTED, S.SUCCEEDED, S.TIMED_OUT].sort());
  });

  it('reportedChanges keeps only what was reported', () => {
    expect(reportedChanges({ percent: 0, step: 'download_firmware', errorCode: null, statusDesc: undefined })).toEqual({
      percent: 0,
      step: 'download_firmware',
    });
  });

  it.each([
    [-5, 0],
    [42.4, 42],
    [140, 100],
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
  ])('clampPercent(%p) = %p', (input, expected) => {
    expect(clampPercent(input)).toBe(expected);
  });
});
