import type { Logger } from 'pino';
import { redactUrl } from '../../../app';
import { safeError, type HuaweiNorthboundClient } from './client';
import { NORTHBOUND_PATHS, UPGRADE_NOTIFY_TYPES, type UpgradeNotifyType } from './protocol';

/** Options of {@link CallbackRegistration}. */
export interface CallbackRegistrationOptions {
  readonly client: HuaweiNorthboundClient;
  /** The gateway's public callback URL (with `?token=` when WEBHOOK_TOKEN is set; never logged with it). */
  readonly callbackUrl: string;
  readonly logger: Logger;
  /** First pause after a failed round; doubles up to `maxBackoffMs`. @default 1000 */
  readonly backoffMs?: number;
  /** @default 60000 */
  readonly maxBackoffMs?: number;
}

/**
 * Subscribes the callback URL to the four upgrade notifications at start
 * (`POST /iodm/app/sub/v1.1.0/subscribe`, one call per type), retrying with
 * backoff until every type is registered. A subscription is per type and
 * replaces the previous URL, so registering again at every start is harmless.
 */
export class CallbackRegistration {
  private readonly pending = new Set<UpgradeNotifyType>(UPGRADE_NOTIFY_TYPES);
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  /** Failed rounds so far. */
  failures = 0;

  constructor(private readonly options: CallbackRegistrationOptions) {}

  /** True once every notify type is subscribed. */
  get registered(): boolean {
    return this.pending.size === 0;
  }

  /** What `/readyz` shows. */
  get state(): 'registered' | 'pending' {
    return this.registered ? 'registered' : 'pending';
  }

  /** Starts registering in the background. */
  run(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.register();
  }

  /** Stops retrying; waits for a call in flight. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  private async register(): Promise<void> {
    const url = redactUrl(this.options.callbackUrl);
    let backoff = this.options.backoffMs ?? 1000;
    while (this.running && this.pending.size > 0) {
      for (const notifyType of [...this.pending]) {
        if (!this.running) return;
        try {
          await this.options.client.call({ method: 'POST', path: NORTHBOUND_PATHS.subscribe, json: { notifyType, callbackUrl: this.options.callbackUrl } });
          this.pending.delete(notifyType);
        } catch (error) {
          this.failures += 1;
          this.options.logger.warn({ err: safeError(error), notifyType, callbackUrl: url, retryInMs: backoff }, 'Huawei callback not registered yet; retrying');
          break;
        }
      }
      if (this.pending.size === 0) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, backoff);
        this.timer.unref();
      });
      backoff = Math.min(this.options.maxBackoffMs ?? 60_000, backoff * 2);
    }
    if (this.registered) this.options.logger.info({ callbackUrl: url, notifyTypes: UPGRADE_NOTIFY_TYPES }, 'Huawei callback registered');
  }
}
