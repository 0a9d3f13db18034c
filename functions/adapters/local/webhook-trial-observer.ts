import type { AppLogger } from '../../app-logger.js';
import { TRIAL_FINISHED_DETAIL_TYPE, TRIAL_FINISHED_SOURCE, type TrialFinished } from '../../domain/trial-finished.js';
import type { TrialFinishedObserver } from '../../ports.js';

/** Local mode: every finished trial is written to the log. */
export class LogTrialObserver implements TrialFinishedObserver {
  readonly name = 'log';
  constructor(private readonly logger: AppLogger) {}
  async trialFinished(event: TrialFinished): Promise<void> {
    this.logger.info(TRIAL_FINISHED_DETAIL_TYPE, { source: TRIAL_FINISHED_SOURCE, detail: event });
  }
}

/**
 * Local mode: POSTs each finished trial, in EventBridge's envelope
 * (`source`, `detail-type`, `time`, `detail`), to a URL the operator configured.
 */
export class WebhookTrialObserver implements TrialFinishedObserver {
  readonly name = 'webhook';
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 2_000,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async trialFinished(event: TrialFinished): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ source: TRIAL_FINISHED_SOURCE, 'detail-type': TRIAL_FINISHED_DETAIL_TYPE, time: this.now().toISOString(), detail: event }),
      signal: AbortSignal.timeout(this.timeoutMs),
      redirect: 'error',
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`Webhook answered ${response.status}`);
  }
}
