import { sleep, startTestGateway, type TestGateway } from './support/gateway';
import { packageInput } from './support/rollouts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.stop());

const REGISTER = `mutation ($input: RegisterFirmwarePackageInput!) {
  registerFirmwarePackage(input: $input) { id source model modelName version fileUrl md5 fileSize fileName firmwareUpgradeType createdAt }
}`;

test('a package is registered, read back, listed newest first and paged', async () => {
  const { body } = await gw.gql(REGISTER, { input: { ...packageInput('3-2-0', '10.01.0001'), md5: 'E4D909C290D0FB1CA068FFADDF22CBD0' } });
  expect(body.errors).toBeUndefined();
  const pkg = (body.data as { registerFirmwarePackage: Record<string, unknown> }).registerFirmwarePackage;
  expect(pkg).toMatchObject({ source: 'DJI', model: '3-2-0', modelName: 'DJI Dock 2', version: '10.01.0001', md5: 'e4d909c290d0fb1ca068ffaddf22cbd0', fileSize: 123456 });

  const one = await gw.gql(`query ($id: ID!) { firmwarePackage(id: $id) { id version } }`, { id: pkg.id });
  expect(one.body.data).toEqual({ firmwarePackage: { id: pkg.id, version: '10.01.0001' } });

  for (const v of ['10.01.0002', '10.01.0003']) {
    await sleep(3); // distinct createdAt: the order is by time
    expect((await gw.gql(REGISTER, { input: packageInput('3-2-0', v) })).body.errors).toBeUndefined();
  }
  expect((await gw.gql(REGISTER, { input: packageInput('0-91-0', '10.01.0001') })).body.errors).toBeUndefined();

  const page = async (after: string | null) =>
    (
      await gw.gql(`query ($after: String) { firmwarePackages(first: 2, after: $after, filter: { model: "3-2-0", source: DJI }) { totalCount pageInfo { hasNextPage endCursor } edges { node { version } } } }`, { after })
    ).body.data as { firmwarePackages: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: { version: string } }[] } };
  const first = await page(null);
  expect(first.firmwarePackages.totalCount).toBe(3);
  expect(first.firmwarePackages.edges.map((e) => e.node.version)).toEqual(['10.01.0003', '10.01.0002']);
  const second = await page(first.firmwarePackages.pageInfo.endCursor);
  expect(second.firmwarePackages.edges.map((e) => e.node.version)).toEqual(['10.01.0001']);
  expect(second.firmwarePackages.pageInfo.hasNextPage).toBe(false);
});

test('a second package with the same model and version is BAD_USER_INPUT naming version, nothing stored', async () => {
  await gw.gql(REGISTER, { input: packageInput('3-1-0', '9.0.0') });
  const { body } = await gw.gql(REGISTER, { input: { ...packageInput('3-1-0', '9.0.0'), fileUrl: 'https://other.example/x.zip' } });
  expect(body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'version' })] });
  const list = await gw.gql(`{ firmwarePackages(filter: { model: "3-1-0" }) { totalCount } }`);
  expect(list.body.data).toEqual({ firmwarePackages: { totalCount: 1 } });
});

test.each([
  ['model', { model: 'Dock 2' }],
  ['version', { version: '  ' }],
  ['fileUrl', { fileUrl: 'ftp://x/y' }],
  ['md5', { md5: 'xyz' }],
  ['fileSize', { fileSize: -1 }],
  ['fileName', { fileName: '' }],
])('a bad %s is BAD_USER_INPUT naming it, as createFirmwareUpgrade checks it', async (field, change) => {
  const { body } = await gw.gql(REGISTER, { input: { ...packageInput('3-3-0', `1.${field}`), ...change } });
  expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  expect((body.errors?.[0].extensions?.fields as { field: string }[]).map((f) => f.field)).toEqual([field]);
  const list = await gw.gql(`{ firmwarePackages(filter: { model: "3-3-0" }) { totalCount } }`);
  expect(list.body.data).toEqual({ firmwarePackages: { totalCount: 0 } });
});
