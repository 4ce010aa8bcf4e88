import { Writable } from 'node:stream';
import pino from 'pino';
import { startTestGateway } from './support/gateway';

test('health probes and metrics scrapes are not logged at info; other requests are', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const gateway = await startTestGateway({ LOG_LEVEL: 'info' }, { logger: pino({ level: 'info' }, sink) });
  try {
    for (const path of ['/healthz', '/readyz', '/metrics', '/healthz']) expect((await fetch(`${gateway.url}${path}`)).status).toBe(200);
    await fetch(`${gateway.url}/favicon.ico`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const urls = lines.map((line) => JSON.parse(line)).flatMap((entry) => [entry.req?.url, entry.url].filter(Boolean));
    expect(urls.filter((url) => /healthz|readyz|metrics/.test(url))).toEqual([]);
    expect(urls).toContain('/favicon.ico');
  } finally {
    await gateway.stop();
  }
});
