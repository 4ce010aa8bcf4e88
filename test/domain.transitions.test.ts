import { UpgradeStatus, decideTransition, IgnoreReason } from '../src/domain';
test('smoke', () => {
  expect(decideTransition({ status: UpgradeStatus.PENDING, lastOccurredAt: null }, { status: UpgradeStatus.SENT, occurredAt: new Date() })).toEqual({ applied: true, status: UpgradeStatus.SENT });
  expect(IgnoreReason.STALE).toBe('STALE');
});
