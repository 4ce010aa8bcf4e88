/**
 * Several instances on one PostgreSQL database share one Huawei token: only
 * the most recently issued token is valid, so they must not log each other out.
 */
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { HuaweiNorthboundClient } from '../../src/ingest/huawei/northbound/client';
import { CreateOperationAnswerSchema, NORTHBOUND_PATHS } from '../../src/ingest/huawei/northbound/protocol';
import { PostgresTokenStore } from '../../src/ingest/huawei/northbound/token-store';
import type { SimulatedHuaweiPlatform } from '../../src/simulators/huawei-platform-server';
import { openDatabase, parseDatabaseUrl } from '../../src/store/data-source';
import { startPlatform, testPki } from '../support/huawei-platform';
import { createTestDatabase, describeWith, type TestDatabase } from './support/services';

describeWith(['postgres'])('Huawei token shared on PostgreSQL', () => {
  let db: TestDatabase;
  let platform: SimulatedHuaweiPlatform;
  const sources: DataSource[] = [];
  const clients: HuaweiNorthboundClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of sources) await s.destroy().catch(() => undefined);
    await platform?.stop();
    await db?.drop();
  });

  async function instance(): Promise<HuaweiNorthboundClient> {
    const dataSource = await openDatabase(parseDatabaseUrl(db.url));
    sources.push(dataSource);
    const pki = testPki();
    const client = new HuaweiNorthboundClient({
      baseUrl: platform.url,
      appId: platform.appId,
      secret: platform.secret,
      tls: { cert: pki.clientCert, key: pki.clientKey, ca: pki.caCert },
      logger: pino({ level: 'silent' }),
      backoffMs: 10,
      tokenStore: new PostgresTokenStore(dataSource, platform.appId),
    });
    clients.push(client);
    return client;
  }

  const create = (client: HuaweiNorthboundClient, deviceId: string) =>
    client.call({ method: 'POST', path: NORTHBOUND_PATHS.firmwareUpgrade, json: { fileId: 'f', targets: { devices: [deviceId] } }, schema: CreateOperationAnswerSchema, idempotent: false });

  test('three instances calling at once log in once; after the token is revoked, once more', async () => {
    platform = await startPlatform({ loginDelayMs: 150 });
    const [a, b, c] = [await instance(), await instance(), await instance()];
    await Promise.all([a, b, c].flatMap((client, i) => Array.from({ length: 5 }, (_, j) => create(client, `d-${i}-${j}`))));
    expect(platform.stats).toMatchObject({ logins: 1, maxConcurrentLogins: 1, unauthorized: 0 });

    platform.revokeToken();
    await Promise.all([a, b, c].flatMap((client, i) => Array.from({ length: 3 }, (_, j) => create(client, `e-${i}-${j}`))));
    expect(platform.stats.logins).toBe(2);
    expect(platform.stats.maxConcurrentLogins).toBe(1);
    // A later call by any instance uses the shared token: no login, no 401.
    const unauthorized = platform.stats.unauthorized;
    await create(c, 'f-1');
    await create(a, 'f-2');
    expect(platform.stats.logins).toBe(2);
    expect(platform.stats.unauthorized).toBe(unauthorized);
  });
});
