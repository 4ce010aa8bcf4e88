import {
  IgnoreReason,
  UpgradeStatus as S,
  clampPercent,
  countStatuses,
  decideTransition,
  deriveTaskProgress,
  deriveTaskStatus,
  isTerminal,
  lastOccurredAtAfter,
  nextDeviceProgress,
  phaseProgress,
  plausibleDeviceTime,
  reportedChanges,
  tallyOf,
} from '../src/domain';

const t = (ms: number) => new Date(Date.UTC(2026, 10, 21, 12, 0, 0, ms));

const received = t(10);

describe('decideTransition', () => {
  // Reports apply in arrival order: a device time older than the last one
  // applied no longer makes a report stale (the old rule froze upgrades whose
  // dock came back from a reboot with its clock behind); only a late
  // redelivery is held against the device's clock.
  it.each([
    ['a first observation applies', S.PENDING, null, S.SENT, 10, { applied: true, status: S.SENT }],
    ['a newer observation applies', S.IN_PROGRESS, 5, S.PAUSED, 10, { applied: true, status: S.PAUSED }],
    ['an observation at the same time applies (receive order)', S.IN_PROGRESS, 10, S.SUCCEEDED, 10, { applied: true, status: S.SUCCEEDED }],
    ['an observation older by the device clock still applies in arrival order', S.IN_PROGRESS, 10, S.SENT, 5, { applied: true, status: S.SENT }],
    ['an observation without status moves nothing', S.IN_PROGRESS, 5, null, 10, { applied: false, reason: IgnoreReason.NO_STATUS }],
  ] as const)('%s', (_name, status, last, observed, at, expected) => {
    const decision = decideTransition(
      { status, lastOccurredAt: last === null ? null : t(last) },
      { status: observed, occurredAt: t(at), receivedAt: received },
    );
    expect(decision).toEqual(expected);
  });

  it('a late redelivery older by plausible device times moves nothing; a terminal one still ends a running sub-task', () => {
    const running = { status: S.IN_PROGRESS, lastOccurredAt: t(10) };
    const late = { occurredAt: t(5), receivedAt: received, redelivered: true };
    expect(decideTransition(running, { ...late, status: S.SENT })).toEqual({ applied: false, reason: IgnoreReason.STALE });
    expect(decideTransition(running, { ...late, status: S.FAILED })).toEqual({ applied: true, status: S.FAILED });
    expect(decideTransition({ status: S.SUCCEEDED, lastOccurredAt: t(10) }, { ...late, status: S.FAILED })).toEqual({
      applied: false,
      reason: IgnoreReason.STALE,
    });
  });

  it('an implausible device time (1970, a year ahead) blocks nothing, even on a redelivery', () => {
    const running = { status: S.IN_PROGRESS, lastOccurredAt: t(10) };
    for (const occurredAt of [new Date(0), new Date(received.getTime() - 8 * 86_400_000)]) {
      expect(decideTransition(running, { status: S.PAUSED, occurredAt, receivedAt: received, redelivered: true })).toEqual({
        applied: true,
        status: S.PAUSED,
      });
    }
    const ahead = new Date(received.getTime() + 365 * 86_400_000);
    expect(lastOccurredAtAfter(running, { status: S.PAUSED, occurredAt: ahead, receivedAt: received })).toEqual(t(10));
    expect(lastOccurredAtAfter(running, { status: S.PAUSED, occurredAt: t(3), receivedAt: received })).toEqual(t(3));
    expect(lastOccurredAtAfter(running, { status: S.PAUSED, occurredAt: t(3), receivedAt: received, origin: 'gateway' })).toEqual(t(10));
    expect(plausibleDeviceTime(ahead, received)).toBeNull();
    expect(plausibleDeviceTime(new Date(0), received)).toBeNull();
  });

  it.each([S.SUCCEEDED, S.FAILED, S.CANCELED, S.REJECTED, S.TIMED_OUT])('%s is left only for a later terminal report of the device', (terminal) => {
    for (const observed of Object.values(S)) {
      for (const at of [5, 20]) {
        const decision = decideTransition({ status: terminal, lastOccurredAt: t(10) }, { status: observed, occurredAt: t(at), receivedAt: received });
        expect(decision).toEqual(isTerminal(observed) ? { applied: true, status: observed } : { applied: false, reason: IgnoreReason.TERMINAL });
        // The gateway's own conclusions never replace an end.
        expect(
          decideTransition({ status: terminal, lastOccurredAt: t(10) }, { status: observed, occurredAt: t(at), receivedAt: received, origin: 'gateway' }),
        ).toEqual({ applied: false, reason: IgnoreReason.TERMINAL });
      }
    }
  });

  it('a TIMED_OUT set by the stale sweeper yields to a later real report, whatever its device time', () => {
    const swept = { status: S.TIMED_OUT, lastOccurredAt: t(10), closedByStaleSweep: true };
    expect(decideTransition(swept, { status: S.IN_PROGRESS, occurredAt: t(20), receivedAt: received })).toEqual({ applied: true, status: S.IN_PROGRESS });
    expect(decideTransition(swept, { status: S.IN_PROGRESS, occurredAt: t(5), receivedAt: received })).toEqual({ applied: true, status: S.IN_PROGRESS });
    expect(decideTransition(swept, { status: S.IN_PROGRESS, occurredAt: t(5), receivedAt: received, redelivered: true })).toEqual({
      applied: false,
      reason: IgnoreReason.STALE,
    });
    expect(decideTransition(swept, { status: null, occurredAt: t(20), receivedAt: received })).toEqual({ applied: false, reason: IgnoreReason.TERMINAL });
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

describe('device progress across phases', () => {
  it('weights DJI phases (download 0–50, install 50–100) and never goes back; success is 100', () => {
    expect(phaseProgress('download_firmware', 100)).toBe(50);
    expect(phaseProgress('upgrade_firmware', 0)).toBe(50);
    expect(phaseProgress('upgrade_firmware', 37)).toBe(69);
    expect(phaseProgress('updating', 37)).toBe(37);
    expect(phaseProgress('upgrade_firmware', null)).toBe(50);
    expect(phaseProgress(null, null)).toBeNull();
    let progress: number | null = null;
    const seen: (number | null)[] = [];
    const reports: [S, string | null, number | null][] = [
      [S.IN_PROGRESS, 'download_firmware', 0], [S.IN_PROGRESS, 'download_firmware', 100], [S.IN_PROGRESS, 'upgrade_firmware', 0],
      [S.IN_PROGRESS, 'download_firmware', 40], [S.PAUSED, null, null], [S.IN_PROGRESS, 'upgrade_firmware', 80], [S.SUCCEEDED, null, null],
    ];
    for (const [status, step, percent] of reports) seen.push((progress = nextDeviceProgress(progress, { status, step, percent })));
    expect(seen).toEqual([0, 50, 50, 50, 50, 90, 100]);
  });
});
