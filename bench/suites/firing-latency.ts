/**
 * Local firing latency: with the worker idle, the time from a schedule's cron minute
 * to its trial's `executed_at`, end to end through local mode (timer → fire-schedule
 * → in-process queue → executor).
 *
 * Fast mode (default): the server runs on a clock shifted so that the next minute
 * boundary is 1.5 s away; the shifted clock moves at real speed, so every delay
 * measured is real, and a sample takes about two seconds instead of up to a minute.
 * `--slow`: the real clock and real minute boundaries (three firings, about three minutes).
 * The parts are read from the store calls the firing makes (timestamped by a
 * middleware on the stores' client): timer lateness (minute → first read of the
 * schedule), fire-schedule (→ the trial is stored), and queue pickup (→ executed_at).
 */
import { startLocalServer } from '../../functions/local/server.js';
import type { Clock } from '../../functions/ports.js';
import { CommandCounter, type CallEvent } from '../lib/command-counter.js';
import { QuietLogger, sleep } from '../lib/env.js';
import { expectStatus, keepAliveAgent } from '../lib/http.js';
import { medP95, verdict, type Row } from '../lib/report.js';
import { round, rounded, summarize } from '../lib/stats.js';
import type { SuiteContext, SuiteResult } from './suite.js';

const TARGET_MS = 1000;
const LEAD_MS = 1500;

/** A clock `offset` ms ahead of the real one; the offset only ever grows. */
class ShiftedClock implements Clock {
  offset = 0;
  now(): Date {
    return new Date(Date.now() + this.offset);
  }
  /** Moves ahead so that the next whole minute is `leadMs` away. */
  leadTo(leadMs: number): number {
    const now = Date.now() + this.offset;
    const nextMinute = Math.ceil((now + leadMs) / 60_000) * 60_000;
    this.offset += nextMinute - leadMs - now;
    return nextMinute;
  }
}

interface Sample {
  scheduledTime: string;
  latencyMs: number;
  timerLatenessMs: number;
  fireScheduleMs: number;
  queueToExecutedMs: number;
}

export async function runFiringLatency(context: SuiteContext): Promise<SuiteResult> {
  const slow = context.slow;
  const clock = new ShiftedClock();
  const logger = new QuietLogger();
  const server = await startLocalServer({ port: 0, logger, clock });
  const agent = keepAliveAgent();
  const events: CallEvent[] = [];
  const counter = new CommandCounter(() => clock.now().getTime()).attach(server.dynamo.documentClient);
  counter.onCall = (event) => events.push(event);
  try {
    const experiment = JSON.parse(
      (
        await expectStatus(
          agent,
          server.url,
          'POST',
          '/experiment',
          201,
          JSON.stringify({ name: 'latency', steps: [{ step: 'tiny wait', do: 'cm.wait', where: { time_in_seconds: 0.001 } }] }),
        )
      ).body,
    ) as { id: string };

    const samples: Sample[] = [];
    const count = slow ? 3 : context.rounds(10);
    let scheduleId = '';
    for (let i = 0; i < count; i += 1) {
      let minute: number;
      if (slow) {
        // One schedule, every minute, three firings on the real clock.
        if (i === 0) {
          const created = await expectStatus(agent, server.url, 'POST', `/experiment/${experiment.id}/schedule`, 201, JSON.stringify({ recurrence_pattern: '* * * * *', recurrence_count: count }));
          scheduleId = (JSON.parse(created.body) as { id: string }).id;
        }
        minute = Math.ceil(clock.now().getTime() / 60_000) * 60_000;
        context.progress(`firing latency (slow): waiting ${Math.round((minute - clock.now().getTime()) / 1000)} s for the next minute`);
      } else {
        minute = clock.leadTo(LEAD_MS);
        const created = await expectStatus(agent, server.url, 'POST', `/experiment/${experiment.id}/schedule`, 201, JSON.stringify({ recurrence_pattern: '* * * * *', recurrence_count: 1 }));
        scheduleId = (JSON.parse(created.body) as { id: string }).id;
      }
      const scheduledTime = new Date(minute).toISOString();
      events.length = 0;
      // Wait (without touching the store, so the idle worker's timing is not disturbed) until the minute has passed, then for the trial.
      await sleep(Math.max(0, minute - clock.now().getTime()) + 200);
      let executedAt: string | null = null;
      for (let poll = 0; poll < 200 && executedAt === null; poll += 1) {
        const page = await server.stores.trials.listBySchedule(scheduleId, { limit: 5 });
        const trial = page.items.find((t) => t.executed_at !== null && t.executed_at >= scheduledTime);
        executedAt = trial?.executed_at ?? null;
        if (executedAt === null) await sleep(25);
      }
      if (executedAt === null) throw new Error(`the firing at ${scheduledTime} did not start a trial`);
      const firstRead = events.find((e) => e.command === 'GetItemCommand' && String((e.input['Key'] as Record<string, unknown> | undefined)?.['sk']) === `SCHEDULE#${scheduleId}`);
      const trialStored = events.find((e) => e.command === 'PutItemCommand' && String((e.input['Item'] as Record<string, unknown> | undefined)?.['pk']).startsWith('TRIAL#'));
      if (!firstRead || !trialStored) throw new Error('could not find the firing among the store calls');
      const executed = Date.parse(executedAt);
      samples.push({
        scheduledTime,
        latencyMs: executed - minute,
        timerLatenessMs: firstRead.sentAt - minute,
        fireScheduleMs: trialStored.doneAt - firstRead.sentAt,
        queueToExecutedMs: executed - trialStored.doneAt,
      });
      if (slow) context.progress(`firing latency (slow): ${samples.length}/${count}: ${executed - minute} ms`);
    }
    if (logger.problems.length > 0) throw new Error(`problems while measuring: ${logger.problems.slice(0, 3).join('; ')}`);
    const latency = summarize(samples.map((s) => s.latencyMs));
    const parts = {
      timerLatenessMs: rounded(summarize(samples.map((s) => s.timerLatenessMs)), 1),
      fireScheduleMs: rounded(summarize(samples.map((s) => s.fireScheduleMs)), 1),
      queueToExecutedMs: rounded(summarize(samples.map((s) => s.queueToExecutedMs)), 1),
    };
    const mode = slow ? 'real clock, real minutes' : `shifted clock, minute ${LEAD_MS / 1000} s after arming`;
    const rows: Row[] = [
      {
        benchmark: `Local firing latency, cron minute → executed_at (${mode}, ${samples.length} firings)`,
        measured: `${medP95(latency)} (max ${round(latency.max, 0)} ms)`,
        target: `≤ ${TARGET_MS} ms`,
        result: verdict(latency.max <= TARGET_MS),
      },
      {
        benchmark: '  parts: timer lateness / fire-schedule / queue → executed_at (medians)',
        measured: `${parts.timerLatenessMs.median} / ${parts.fireScheduleMs.median} / ${parts.queueToExecutedMs.median} ms`,
        result: 'info',
      },
    ];
    return { rows, data: { mode, samples, latencyMs: rounded(latency, 1), parts, targetMs: TARGET_MS, clockResolutionMs: 1 } };
  } finally {
    agent.destroy();
    await server.close();
  }
}
