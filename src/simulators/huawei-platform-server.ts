/**
 * A simulated Huawei OceanConnect platform (northbound API), in process: an
 * HTTPS server (optionally demanding a client certificate) that implements
 * what the gateway calls, like the platform does it:
 *
 * - login and refresh, tokens that expire, and only the most recently issued
 *   token valid (a login or refresh invalidates the previous one);
 * - `app_key` + `Authorization: Bearer` checked on every other call (401 otherwise);
 * - upgrade subscriptions, one callback URL per notify type;
 * - firmware and software upgrade tasks whose devices move through the states
 *   over time (wait, processing: downloading, downloaded, updating; then
 *   success or fail), each move pushed to the subscribed callback;
 * - task list (filtered by type and device), task and sub-operation queries (paged).
 *
 * Faults on demand: drop a share of the pushes, fail some devices, answer 5xx
 * now and then (or the next n calls), forget a task, create a task but lose
 * the answer (the caller cannot tell whether it was made).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { formatPlatformTime, NORTHBOUND_PATHS, UPGRADE_NOTIFY_TYPES } from '../ingest/huawei/northbound/protocol';
import { generatePki, type GeneratedPki } from './pki';

/** Options of {@link SimulatedHuaweiPlatform}. */
export interface SimulatedPlatformOptions {
  readonly appId?: string;
  readonly secret?: string;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Generated when absent. */
  readonly pki?: GeneratedPki;
  /** Refuse connections without a client certificate signed by the CA. @default true */
  readonly requireClientCert?: boolean;
  /** Token lifetime (`expiresIn`), seconds. @default 3600 */
  readonly tokenLifetimeSeconds?: number;
  /** How long a login takes (to expose concurrent logins). @default 20 */
  readonly loginDelayMs?: number;
  /** Time between two moves of a device. @default 1000 */
  readonly stepMs?: number;
  /** Share (0..1) of pushes not sent. @default 0 */
  readonly dropPushRatio?: number;
  /** Devices whose upgrade fails (at `updating`). */
  readonly failDevices?: readonly string[];
  /** Share (0..1) of calls answered 503. @default 0 */
  readonly errorRatio?: number;
  /** File ids the platform knows; empty or absent: any file id. */
  readonly fileIds?: readonly string[];
  /** Called for each push made or dropped (the CLI prints them). */
  readonly onPush?: (push: { notifyType: string; body: Record<string, unknown>; dropped: boolean; status: number | null }) => void;
  /** Called for each API call. */
  readonly onCall?: (call: { method: string; path: string; status: number }) => void;
  /** @default Math.random */
  readonly random?: () => number;
}

interface SubOperation {
  readonly subOperationId: string;
  readonly deviceId: string;
  /** Index into the device's script (see STAGES). */
  stage: number;
  status: 'wait' | 'processing' | 'success' | 'fail';
  readonly createTime: string;
  startTime: string | null;
  stopTime: string | null;
  readonly fails: boolean;
}

interface Operation {
  readonly operationId: string;
  readonly kind: 'firmware' | 'software';
  readonly fileId: string;
  readonly createTime: string;
  readonly policy: unknown;
  readonly targets: unknown;
  readonly subOperations: SubOperation[];
}

/** The moves of a device: wait, then three progress words, then the result. */
const STAGES = ['wait', 'downloading', 'downloaded', 'updating', 'result'] as const;
const FW_STEPS: Record<string, string> = { downloading: '1', downloaded: '2', updating: '3' };

/** A platform error answer. */
const platformError = (code: string, desc: string) => ({ error_code: code, error_desc: desc });

export class SimulatedHuaweiPlatform {
  readonly appId: string;
  readonly secret: string;
  readonly pki: GeneratedPki;
  private readonly server: https.Server;
  private readonly options: SimulatedPlatformOptions;
  private readonly random: () => number;
  private token: { accessToken: string; refreshToken: string; expiresAt: number } | null = null;
  private readonly operations = new Map<string, Operation>();
  private readonly forgotten = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private failNext: { count: number; status: number } = { count: 0, status: 503 };
  private loseNextCreateAnswers = 0;
  private heldCreates: { count: number; onHeld: () => void } = { count: 0, onHeld: () => undefined };
  private loginsInFlight = 0;
  private readonly pushesInFlight = new Set<Promise<void>>();

  /** Every subscription made: notify type to callback URL. */
  readonly subscriptions = new Map<string, string>();
  /** Counters the tests read. */
  readonly stats = { logins: 0, refreshes: 0, maxConcurrentLogins: 0, unauthorized: 0, injectedErrors: 0, pushesSent: 0, pushesDropped: 0, calls: 0 };
  /** Every call's method and path, in order. */
  readonly calls: { method: string; path: string; status: number }[] = [];
  /** Every access token ever issued (tests check none reaches a log). */
  readonly issuedTokens: string[] = [];
  /** Drop share of pushes; may be changed while running. */
  dropPushRatio: number;
  /** 5xx share; may be changed while running. */
  errorRatio: number;

  constructor(options: SimulatedPlatformOptions = {}) {
    this.options = options;
    this.appId = options.appId ?? 'sim-app';
    this.secret = options.secret ?? `sim-secret-${randomBytes(8).toString('hex')}`;
    this.pki = options.pki ?? generatePki();
    this.random = options.random ?? Math.random;
    this.dropPushRatio = options.dropPushRatio ?? 0;
    this.errorRatio = options.errorRatio ?? 0;
    const requireClientCert = options.requireClientCert ?? true;
    this.server = https.createServer(
      {
        cert: this.pki.serverCert,
        key: this.pki.serverKey,
        ca: this.pki.caCert,
        requestCert: requireClientCert,
        rejectUnauthorized: requireClientCert,
      },
      (request, response) => void this.handle(request, response),
    );
  }

  /** Listens; resolves with the base URL (https://127.0.0.1:port). */
  async start(): Promise<string> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => resolve());
    });
    this.timer = setInterval(() => this.tick(), this.options.stepMs ?? 1000);
    this.timer.unref();
    return this.url;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = this.options.host ?? '127.0.0.1';
    return `https://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  }

  /** Stops the server and the device clock; waits for pushes in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.allSettled([...this.pushesInFlight]);
  }

  /** The next `count` API calls (login included) are answered `status`. */
  failNextCalls(count: number, status = 503): void {
    this.failNext = { count, status };
  }

  /** The next `count` task creations make the task, then cut the connection instead of answering. */
  loseCreateAnswers(count: number): void {
    this.loseNextCreateAnswers = count;
  }

  /** The next `count` task creations make the task and never answer; `onHeld` is told of each (a test kills the caller then). */
  holdCreateAnswers(count: number, onHeld: () => void): void {
    this.heldCreates = { count, onHeld };
  }

  /** Every task made, oldest first: its id and devices (tests check no device is sent twice). */
  get operationDevices(): readonly { operationId: string; kind: string; fileId: string; deviceIds: readonly string[] }[] {
    return [...this.operations.values()].map((o) => ({ operationId: o.operationId, kind: o.kind, fileId: o.fileId, deviceIds: o.subOperations.map((s) => s.deviceId) }));
  }

  /** Makes the current token invalid at once (as another login elsewhere would). */
  revokeToken(): void {
    if (this.token) this.token = { ...this.token, accessToken: `revoked-${randomUUID()}` };
  }

  /** The platform no longer knows the task (404 on queries). */
  forgetOperation(operationId: string): void {
    this.operations.delete(operationId);
    this.forgotten.add(operationId);
  }

  /** The state of every device of a task, for tests. */
  subOperationsOf(operationId: string): readonly { deviceId: string; subOperationId: string; status: string }[] {
    return (this.operations.get(operationId)?.subOperations ?? []).map(({ deviceId, subOperationId, status }) => ({ deviceId, subOperationId, status }));
  }

  /** True once every device of every task has ended. */
  get allDone(): boolean {
    return [...this.operations.values()].every((o) => o.subOperations.every((s) => s.status === 'success' || s.status === 'fail'));
  }

  /** Moves every device one step and pushes what changed. */
  tick(): void {
    for (const operation of this.operations.values()) {
      for (const sub of operation.subOperations) {
        if (sub.status === 'success' || sub.status === 'fail') continue;
        sub.stage += 1;
        const stage = STAGES[sub.stage];
        const now = formatPlatformTime(new Date());
        if (stage === 'result') {
          sub.status = sub.fails ? 'fail' : 'success';
          sub.stopTime = now;
          this.pushResult(operation, sub);
        } else {
          sub.status = 'processing';
          sub.startTime ??= now;
          this.pushState(operation, sub, stage);
        }
      }
    }
  }

  private pushState(operation: Operation, sub: SubOperation, word: string): void {
    const head = { deviceId: sub.deviceId, appId: this.appId, operationId: operation.operationId, subOperationId: sub.subOperationId };
    if (operation.kind === 'firmware') this.push('fwUpgradeStateChangeNotify', { ...head, step: FW_STEPS[word], stepDesc: word });
    else this.push('swUpgradeStateChangeNotify', { ...head, swUpgradeState: word });
  }

  private pushResult(operation: Operation, sub: SubOperation): void {
    const head = { deviceId: sub.deviceId, appId: this.appId, operationId: operation.operationId, subOperationId: sub.subOperationId };
    const versions = { sourceVersion: '1.0.0', targetVersion: '2.0.0', curVersion: sub.status === 'success' ? '2.0.0' : '1.0.0', upgradeTime: '42' };
    if (operation.kind === 'firmware') {
      const ok = sub.status === 'success';
      this.push('fwUpgradeResultNotify', { ...head, ...versions, status: ok ? 'SUCCESS' : 'FAIL', statusDesc: ok ? 'SUCCESS: The device upgrade is successful.' : 'FAIL: The device upgrade failed.' });
    } else {
      const ok = sub.status === 'success';
      this.push('swUpgradeResultNotify', { ...head, ...versions, swUpgradeResult: ok ? 'SUCCESS' : 'FAIL', resultDesc: ok ? 'SUCCESS' : 'FAIL', ...(ok ? {} : { errorCode: '7', description: 'package verify failed' }) });
    }
  }

  private push(notifyType: string, fields: Record<string, unknown>): void {
    const url = this.subscriptions.get(notifyType);
    if (!url) return;
    const body = { notifyType, ...fields };
    if (this.random() < this.dropPushRatio) {
      this.stats.pushesDropped += 1;
      this.options.onPush?.({ notifyType, body, dropped: true, status: null });
      return;
    }
    const sending = postJson(url, body, this.pki.caCert)
      .then((status) => {
        this.stats.pushesSent += 1;
        this.options.onPush?.({ notifyType, body, dropped: false, status });
      })
      .catch(() => this.options.onPush?.({ notifyType, body, dropped: false, status: null }))
      .finally(() => this.pushesInFlight.delete(sending));
    this.pushesInFlight.add(sending);
  }

  /** Waits until every push made so far was answered. */
  async pushesSettled(): Promise<void> {
    while (this.pushesInFlight.size > 0) await Promise.allSettled([...this.pushesInFlight]);
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'https://platform');
    const method = request.method ?? 'GET';
    const send = (status: number, body?: unknown) => {
      this.stats.calls += 1;
      const call = { method, path: url.pathname, status };
      this.calls.push(call);
      this.options.onCall?.(call);
      response.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      response.end(body === undefined ? undefined : JSON.stringify(body));
    };
    let raw = '';
    for await (const chunk of request) {
      raw += chunk;
      if (raw.length > 1_048_576) return send(413, platformError('100228', 'body too large'));
    }

    if (this.failNext.count > 0) {
      this.failNext.count -= 1;
      this.stats.injectedErrors += 1;
      return send(this.failNext.status, platformError('50252', 'simulated internal error'));
    }
    if (this.errorRatio > 0 && this.random() < this.errorRatio) {
      this.stats.injectedErrors += 1;
      return send(503, platformError('50252', 'simulated internal error'));
    }

    if (method === 'POST' && url.pathname === NORTHBOUND_PATHS.login) return this.login(raw, request, send);
    if (method === 'POST' && url.pathname === NORTHBOUND_PATHS.refreshToken) return this.refresh(raw, send);

    if (request.headers.app_key !== this.appId) return send(401, platformError('100217', 'The application has not been authorized.'));
    const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    if (!this.token || bearer !== this.token.accessToken || Date.now() >= this.token.expiresAt) {
      this.stats.unauthorized += 1;
      return send(401, platformError('1010005', 'Invalid access token.'));
    }

    let json: Record<string, unknown> = {};
    if (raw !== '') {
      try {
        json = JSON.parse(raw);
      } catch {
        return send(400, platformError('100228', 'The request body is not valid JSON.'));
      }
    }
    if (method === 'POST' && url.pathname === NORTHBOUND_PATHS.subscribe) {
      const notifyType = String(json.notifyType ?? '');
      const callbackUrl = String(json.callbackUrl ?? json.callbackurl ?? '');
      if (!(UPGRADE_NOTIFY_TYPES as readonly string[]).includes(notifyType)) return send(400, platformError('100228', 'Invalid notifyType.'));
      if (!/^https?:\/\/[^/?#]+:\d+/.test(callbackUrl)) return send(400, platformError('100222', 'The callback url is illegal.'));
      this.subscriptions.set(notifyType, callbackUrl);
      return send(200);
    }
    if (method === 'POST' && (url.pathname === NORTHBOUND_PATHS.firmwareUpgrade || url.pathname === NORTHBOUND_PATHS.softwareUpgrade)) {
      if (this.heldCreates.count > 0) {
        this.heldCreates.count -= 1;
        const { onHeld } = this.heldCreates;
        return this.createOperation(url.pathname === NORTHBOUND_PATHS.firmwareUpgrade ? 'firmware' : 'software', json, () => onHeld());
      }
      if (this.loseNextCreateAnswers > 0) {
        this.loseNextCreateAnswers -= 1;
        // Made, but the answer never arrives.
        return this.createOperation(url.pathname === NORTHBOUND_PATHS.firmwareUpgrade ? 'firmware' : 'software', json, () => response.destroy());
      }
      return this.createOperation(url.pathname === NORTHBOUND_PATHS.firmwareUpgrade ? 'firmware' : 'software', json, send);
    }
    if (method === 'GET' && url.pathname === '/iodm/northbound/v1.5.0/operations') return this.listOperations(url.searchParams, send);
    const subOps = /^\/iodm\/northbound\/v1\.5\.0\/operations\/([^/]+)\/subOperations$/.exec(url.pathname);
    if (method === 'GET' && subOps) return this.listSubOperations(decodeURIComponent(subOps[1]), url.searchParams, send);
    const op = /^\/iodm\/northbound\/v1\.5\.0\/operations\/([^/]+)$/.exec(url.pathname);
    if (method === 'GET' && op) return this.getOperation(decodeURIComponent(op[1]), send);
    return send(404, platformError('100418', 'The resource does not exist.'));
  }

  private async login(raw: string, request: http.IncomingMessage, send: (status: number, body?: unknown) => void): Promise<void> {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return send(400, platformError('100228', 'The login body must be form-encoded.'));
    }
    const form = new URLSearchParams(raw);
    this.loginsInFlight += 1;
    this.stats.maxConcurrentLogins = Math.max(this.stats.maxConcurrentLogins, this.loginsInFlight);
    try {
      // The simulated delay holds no process: a platform stopped mid-login leaves nothing running (a test ends at once).
      await new Promise((resolve) => setTimeout(resolve, this.options.loginDelayMs ?? 20).unref());
      if (form.get('appId') !== this.appId || form.get('secret') !== this.secret) {
        return send(401, platformError('100208', 'The appId or secret is not valid.'));
      }
      this.stats.logins += 1;
      send(200, this.issue());
    } finally {
      this.loginsInFlight -= 1;
    }
  }

  private refresh(raw: string, send: (status: number, body?: unknown) => void): void {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(raw);
    } catch {
      return send(400, platformError('100228', 'The request body is not valid JSON.'));
    }
    if (json.appId !== this.appId || json.secret !== this.secret || !this.token || json.refreshToken !== this.token.refreshToken) {
      return send(401, platformError('100006', 'The refresh token is not valid.'));
    }
    this.stats.refreshes += 1;
    send(200, this.issue());
  }

  /** A new token pair; the previous one stops being valid. */
  private issue(): Record<string, unknown> {
    const lifetime = this.options.tokenLifetimeSeconds ?? 3600;
    this.token = { accessToken: randomBytes(16).toString('hex'), refreshToken: randomBytes(16).toString('hex'), expiresAt: Date.now() + lifetime * 1000 };
    this.issuedTokens.push(this.token.accessToken, this.token.refreshToken);
    return { scope: 'default', tokenType: 'bearer', expiresIn: lifetime, accessToken: this.token.accessToken, refreshToken: this.token.refreshToken };
  }

  private createOperation(kind: 'firmware' | 'software', json: Record<string, unknown>, send: (status: number, body?: unknown) => void): void {
    const fileId = json.fileId;
    const devices = (json.targets as { devices?: unknown } | undefined)?.devices;
    if (typeof fileId !== 'string' || fileId === '') return send(400, platformError('100228', 'fileId is required.'));
    if (!Array.isArray(devices) || devices.length === 0 || !devices.every((d) => typeof d === 'string' && d !== '')) {
      return send(400, platformError('100228', 'targets.devices is required.'));
    }
    const known = this.options.fileIds ?? [];
    if (known.length > 0 && !known.includes(fileId)) return send(404, platformError('123002', `The version package ${fileId} does not exist.`));
    const operationId = randomBytes(12).toString('hex');
    const now = formatPlatformTime(new Date());
    const fail = new Set(this.options.failDevices ?? []);
    this.operations.set(operationId, {
      operationId,
      kind,
      fileId,
      createTime: now,
      policy: json.policy ?? { executeType: 'now' },
      targets: json.targets,
      subOperations: [...new Set(devices as string[])].map((deviceId) => ({
        subOperationId: randomBytes(12).toString('hex'),
        deviceId,
        stage: 0,
        status: 'wait' as const,
        createTime: now,
        startTime: null,
        stopTime: null,
        fails: fail.has(deviceId),
      })),
    });
    send(200, { operationId });
  }

  /** The task list (iot_06_0082): filtered by operationType and deviceId, newest first, paged. */
  private listOperations(query: URLSearchParams, send: (status: number, body?: unknown) => void): void {
    const pageNo = Number(query.get('pageNo') ?? 0);
    const pageSize = Number(query.get('pageSize') ?? 10);
    if (!Number.isInteger(pageNo) || pageNo < 0 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
      return send(400, platformError('100228', 'pageNo or pageSize out of range.'));
    }
    const type = query.get('operationType');
    const deviceId = query.get('deviceId');
    const all = [...this.operations.values()]
      .reverse()
      .filter((o) => (!type || `${o.kind}_upgrade` === type) && (!deviceId || o.subOperations.some((s) => s.deviceId === deviceId)));
    const data = all.slice(pageNo * pageSize, (pageNo + 1) * pageSize).map((o) => this.operationView(o));
    send(200, { data, pageNo, pageSize, totalCount: all.length });
  }

  private getOperation(operationId: string, send: (status: number, body?: unknown) => void): void {
    const operation = this.operations.get(operationId);
    if (!operation) return send(404, platformError('123009', 'The operation does not exist.'));
    send(200, this.operationView(operation));
  }

  private operationView(operation: Operation): Record<string, unknown> {
    const operationId = operation.operationId;
    const count = (status: string) => operation.subOperations.filter((s) => s.status === status).length;
    const staResult = { total: operation.subOperations.length, wait: count('wait'), processing: count('processing'), success: count('success'), fail: count('fail'), stop: 0, timeout: 0 };
    const status = staResult.wait === staResult.total ? 'wait' : staResult.wait + staResult.processing > 0 ? 'processing' : staResult.fail > 0 ? 'failed' : 'success';
    return {
      operationId,
      createTime: operation.createTime,
      operateType: `${operation.kind}_upgrade`,
      targets: operation.targets,
      policy: operation.policy,
      status,
      staResult,
      extendPara: null,
    };
  }

  private listSubOperations(operationId: string, query: URLSearchParams, send: (status: number, body?: unknown) => void): void {
    const operation = this.operations.get(operationId);
    if (!operation) return send(404, platformError('123009', 'The operation does not exist.'));
    const pageNo = Number(query.get('pageNo') ?? 0);
    const pageSize = Number(query.get('pageSize') ?? 10);
    if (!Number.isInteger(pageNo) || pageNo < 0 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
      return send(400, platformError('100228', 'pageNo or pageSize out of range.'));
    }
    const wanted = query.get('subOperationStatus');
    const all = operation.subOperations.filter((s) => !wanted || s.status === wanted);
    const data = all.slice(pageNo * pageSize, (pageNo + 1) * pageSize).map((s) => ({
      subOperationId: s.subOperationId,
      createTime: s.createTime,
      startTime: s.startTime,
      stopTime: s.stopTime,
      operateType: `${operation.kind}_upgrade`,
      deviceId: s.deviceId,
      status: s.status,
      detailInfo: s.status === 'fail' ? 'The device upgrade failed.' : null,
      extendInfo: null,
    }));
    send(200, { data, pageNo, pageSize, totalCount: all.length });
  }
}

/** POSTs a push (http or https, trusting `ca` too); resolves with the status. */
function postJson(url: string, body: unknown, ca: string): Promise<number> {
  const target = new URL(url);
  const payload = JSON.stringify(body);
  const request = target.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }, timeout: 15_000, ...(target.protocol === 'https:' ? { ca } : {}) },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('push timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}
