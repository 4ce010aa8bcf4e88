import { ConfigError, loadConfig } from '../src/config';

const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

test('without HUAWEI_* settings the command side is off', () => {
  expect(loadConfig({}).huawei).toBeUndefined();
});

test('a full set turns it on, with the default reconcile interval', () => {
  const config = loadConfig({ HUAWEI_API_URL: 'https://iot.example.com:8743/', HUAWEI_APP_ID: 'app', HUAWEI_SECRET: 's3cr3t-value' });
  expect(config.huawei).toMatchObject({ apiUrl: 'https://iot.example.com:8743', appId: 'app', reconcileIntervalMs: 300_000, callbackUrl: undefined });
});

test('half a set of credentials is an error naming what is missing, and never shows the secret', () => {
  const problems = problemsOf({ HUAWEI_API_URL: 'https://iot.example.com:8743', HUAWEI_SECRET: 'hunter2-secret' });
  expect(problems.join('\n')).toMatch(/HUAWEI_APP_ID must be set too/);
  expect(problems.join('\n')).not.toContain('hunter2-secret');
  expect(problemsOf({ HUAWEI_CALLBACK_URL: 'https://gw.example.com:443/v1.0.0/messageReceiver' }).join('\n')).toMatch(/without HUAWEI_API_URL/);
  const base = { HUAWEI_API_URL: 'https://iot.example.com:8743', HUAWEI_APP_ID: 'app', HUAWEI_SECRET: 'x' };
  expect(problemsOf({ ...base, HUAWEI_CLIENT_CERT_FILE: '/tmp/c.pem' }).join('\n')).toMatch(/HUAWEI_CLIENT_CERT_FILE and HUAWEI_CLIENT_KEY_FILE must be set together/);
});

test('plain http needs the loud opt-in', () => {
  const base = { HUAWEI_API_URL: 'http://127.0.0.1:8743', HUAWEI_APP_ID: 'app', HUAWEI_SECRET: 'x' };
  expect(problemsOf(base).join('\n')).toMatch(/HUAWEI_API_URL must be https/);
  expect(loadConfig({ ...base, HUAWEI_ALLOW_INSECURE_HTTP: 'true' }).huawei?.allowInsecureHttp).toBe(true);
});

test('the callback URL needs a port, and the webhook token when one is set (not shown in the error)', () => {
  const base = { HUAWEI_API_URL: 'https://iot.example.com:8743', HUAWEI_APP_ID: 'app', HUAWEI_SECRET: 'x' };
  expect(problemsOf({ ...base, HUAWEI_CALLBACK_URL: 'https://gw.example.com/v1.0.0/messageReceiver' }).join('\n')).toMatch(/explicit port/);
  const token = 'abcdefgh12345678';
  const problems = problemsOf({ ...base, WEBHOOK_TOKEN: token, HUAWEI_CALLBACK_URL: 'https://gw.example.com:443/v1.0.0/messageReceiver?token=wrongwrong' });
  expect(problems.join('\n')).toMatch(/must carry \?token=<WEBHOOK_TOKEN>/);
  expect(problems.join('\n')).not.toContain(token);
  expect(loadConfig({ ...base, WEBHOOK_TOKEN: token, HUAWEI_CALLBACK_URL: `https://gw.example.com:443/v1.0.0/messageReceiver?token=${token}` }).huawei?.callbackUrl).toContain(token);
});
