/**
 * Runs a job now and then every `intervalMs` after the previous run ended
 * (runs never overlap), until stopped. A failing run is reported and the next
 * one comes at the usual time. The timer does not keep the process alive.
 */
export class Periodic {
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;

  constructor(
    private readonly job: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts: the first run comes after `firstDelayMs` (at once by default). */
  start(firstDelayMs = 0): void {
    if (this.running) return;
    this.running = true;
    this.schedule(firstDelayMs);
  }

  /** Stops the timer and waits for a run in progress to end. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.current = this.job()
        .then(
          () => undefined,
          (error) => this.onError(error),
        )
        .finally(() => {
          this.current = null;
          this.schedule(this.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}
