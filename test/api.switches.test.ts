import { startTestGateway } from './support/gateway';

const landingPage = (url: string) => fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });

test('Sandbox and introspection are on by default', async () => {
  const gateway = await startTestGateway();
  try {
    const page = await landingPage(gateway.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/sandbox/i);
    const { body } = await gateway.gql('{ __schema { queryType { name } } }');
    expect(body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  } finally {
    await gateway.stop();
  }
});

test('GRAPHQL_SANDBOX=false and GRAPHQL_INTROSPECTION=false switch them off for production', async () => {
  const gateway = await startTestGateway({ GRAPHQL_SANDBOX: 'false', GRAPHQL_INTROSPECTION: 'false' });
  try {
    expect(await (await landingPage(gateway.url)).text()).not.toMatch(/sandbox/i);
    const { body } = await gateway.gql('{ __schema { queryType { name } } }');
    expect(body.errors?.[0].message).toMatch(/introspection/i);
    // Ordinary operations still work.
    expect((await gateway.gql('{ upgradeTasks { totalCount } }')).body.data).toEqual({ upgradeTasks: { totalCount: 0 } });
  } finally {
    await gateway.stop();
  }
});

test('internal errors are masked outside development', async () => {
  const gateway = await startTestGateway();
  try {
    // Break the read path under the API: the client sees a coded, generic error and no stack.
    // Through the writer, so that the rename is committed before the API reads.
    const rename = (from: string, to: string) =>
      gateway.writeQueue.submit(async (tx) => ({ result: await tx.query(`ALTER TABLE ${from} RENAME TO ${to}`) }));
    await rename('upgrade_task', 'upgrade_task_gone');
    const { body } = await gateway.gql('{ upgradeTasks { totalCount } }');
    expect(body.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(body)).not.toMatch(/upgrade_task|stacktrace|SQLITE/i);
    await rename('upgrade_task_gone', 'upgrade_task');
  } finally {
    await gateway.stop();
  }
});
