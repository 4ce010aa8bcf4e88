/**
 * The DJI MQTT handler on its own: what it hands the recorder, and when it
 * answers events_reply.
 */
import pino from 'pino';
import type { InboundEnvelope } from '../src/domain';
import { djiMessageHandler } from '../src/ingest/dji/ingest';
import type { Recorder, RecordResult } from '../src/recorder/recorder';
import { createMetrics } from '../src/server/metrics';
import { InboundOutcome } from '../src/store/entities';
import { djiFixture } from './fixtures/dji/dock';

const AT = new Date('2026-03-04T05:06:07.089Z');

function harness(outcome: InboundOutcome | Error = InboundOutcome.RECORDED) {
  const recorded: InboundEnvelope[] = [];
  const published: { topic: string; payload: any }[] = [];
  const recorder = {
    record: async (envelope: InboundEnvelope): Promise<RecordResult> => {
      recorded.push(envelope);
      if (outcome instanceof Error) throw outcome;
      return { outcome, reason: null, progress: [], shadow: null };
    },
  } as unknown as Recorder;
  const handler = djiMessageHandler({
    recorder,
    publish: async (topic, payload) => {
      published.push({ topic, payload: JSON.parse(payload) });
    },
    metrics: createMetrics(),
    logger: pino({ level: 'silent' }),
    clock: { now: () => AT },
  });
  const handle = (name: string, patch: Record<string, unknown> = {}) => {
    const { topic, payload } = djiFixture(name);
    return handler(topic, Buffer.from(JSON.stringify({ ...payload, ...patch })));
  };
  return { handler, handle, recorded, published };
}

test('stamps the receive time and the reply with the injected clock; the reply carries tid, bid and method', async () => {
  const h = harness();
  await h.handle('ota-progress-current-step-string');
  expect(h.recorded[0].receivedAt).toEqual(AT);
  expect(h.published).toEqual([
    {
      topic: 'thing/product/7CTDM1234567/events_reply',
      payload: { tid: 'tid-progress-0001', bid: 'bid-ota-0001', timestamp: AT.getTime(), method: 'ota_progress', data: { result: 0 } },
    },
  ]);
});

test.each([InboundOutcome.DUPLICATE, InboundOutcome.REJECTED, InboundOutcome.UNHANDLED])(
  'answers need_reply 1 whatever the outcome (%s)',
  async (outcome) => {
    const h = harness(outcome);
    await h.handle('ota-progress-ok');
    expect(h.published.map((p) => p.payload.tid)).toEqual(['tid-progress-0004']);
  },
);

test('no reply without need_reply, nor for a services_reply', async () => {
  const h = harness();
  await h.handle('ota-progress-step-key');
  await h.handle('ota-progress-ok', { need_reply: 0 });
  await h.handle('services-reply-ok', { need_reply: 1 });
  expect(h.recorded).toHaveLength(3);
  expect(h.published).toEqual([]);
});

test('storage failure: the handler rejects and nothing is answered, so the message comes again', async () => {
  const h = harness(new Error('disk full'));
  await expect(h.handle('ota-progress-ok')).rejects.toThrow('disk full');
  expect(h.published).toEqual([]);
});
