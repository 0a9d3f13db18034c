import { randomUUID } from 'node:crypto';
import type { Experiment, ExperimentDefinition, Step } from '../../functions/domain/experiment.js';
import { normaliseDefinition } from '../../functions/domain/experiment.js';
import { SCHEDULE_DEFAULTS, type Schedule } from '../../functions/domain/schedule.js';
import type { Trial, TrialRecordEntry } from '../../functions/domain/trial.js';
import type { StepModule } from '../../functions/modules/types.js';

/** A typical experiment as a user would POST it: a health check, a pause, a check with expectations, a clean-up. */
export function typicalExperimentBody(): ExperimentDefinition {
  return {
    name: 'Checkout survives a dependency outage',
    description: 'Probe, inject, wait, probe again, clean up',
    metadata: { team: 'payments', service: 'checkout' },
    parameters: { base_url: 'http://127.0.0.1:9', region: 'us-east-1' },
    pre_steps: [{ step: 'Service is healthy', do: 'cm.http_probe', where: { url: '{{ base_url }}/health' } }],
    steps: [
      { step: 'Let it settle', do: 'cm.wait', where: { time_in_seconds: 5 } },
      {
        step: 'Still serving orders',
        do: 'cm.http_request',
        where: { url: '{{ base_url }}/orders', method: 'GET', headers: { Accept: 'application/json' } },
        expect: [
          { operator: 'eq', status_code: 200 },
          { operator: 'lt', response_time_in_seconds: 0.5 },
        ],
      },
    ],
    post_steps: [{ step: 'Healthy after', do: 'cm.http_probe', where: { url: '{{ base_url }}/health' } }],
  };
}

export function experimentFrom(definition: ExperimentDefinition, id = randomUUID()): Experiment {
  const at = new Date().toISOString();
  return { ...normaliseDefinition(definition), id, created_by: 'bench', created_at: at, updated_by: 'bench', updated_at: at };
}

/** A benchmark-only step command that does nothing: what is left of a step's time is the executor's own. */
export const noopModule: StepModule = {
  name: 'bench.noop',
  description: 'Does nothing (benchmarks only).',
  whereSchema: { type: 'object' },
  async run() {
    return { ok: true };
  },
};

export function noopSteps(count: number, prefix = 'step'): Step[] {
  return Array.from({ length: count }, (_, i) => ({ step: `${prefix} ${i + 1}`, do: 'bench.noop', where: { index: i } }));
}

function entry(name: string, at: number, lines: string[]): TrialRecordEntry {
  const stamp = (i: number) => new Date(at + i * 37).toISOString();
  return { step_name: name, step_parameters: { url: 'http://127.0.0.1:9/health' }, logs: lines.map((line, i) => `[${stamp(i)} - INFO] ${line}`) };
}

/** A finished trial with the record a typical four-step run leaves (about 2 KB of JSON). */
export function finishedTrial(experimentId: string, index: number): Trial {
  const at = Date.now() - 3_600_000 + index * 1000;
  const probe = ['Starting cm.http_probe step "Service is healthy".', 'Result: {"status_code":200,"response_time_in_seconds":0.004}', 'Completed.'];
  return {
    id: randomUUID(),
    experiment: experimentId,
    parameters: { region: 'us-east-1' },
    metadata: { team: 'payments', service: 'checkout' },
    ticket: { change: `CHG${String(100000 + index)}` },
    status: 'Succeeded',
    trial_record: {
      pre_steps: [entry('Service is healthy', at, probe)],
      steps: [
        entry('Let it settle', at + 100, ['Starting cm.wait step "Let it settle".', 'Waiting 5 second(s).', 'Result: {"waited_seconds":5}', 'Completed.']),
        entry('Still serving orders', at + 5200, [
          'Starting cm.http_request step "Still serving orders".',
          'Result: {"status_code":200,"response_time_in_seconds":0.006}',
          'Expected status_code eq 200, got 200.',
          'Expected response_time_in_seconds lt 0.5, got 0.006.',
          'Completed.',
        ]),
      ],
      post_steps: [entry('Healthy after', at + 5300, probe)],
      result: [entry('result', at + 5400, ['Trial Succeeded.'])],
    },
    created_at: new Date(at).toISOString(),
    executed_at: new Date(at + 50).toISOString(),
    completed_at: new Date(at + 5400).toISOString(),
    initiated_by: 'bench',
    initiated_from: 'api',
    schedule_id: null,
  };
}

/**
 * A schedule as `DynamoScheduleStore.create` stores it (same attributes and keys),
 * for inserting many at once with BatchWriteItem. Its pattern (one of about 550
 * distinct ones) fires at an hour 6 to 17 hours from now, so nothing fires while a
 * benchmark runs.
 */
export function scheduleItem(experimentId: string, index: number, nowHourUtc: number): { schedule: Schedule; item: Record<string, unknown> } {
  const id = randomUUID();
  const at = new Date(Date.now() + index).toISOString();
  const hour = (nowHourUtc + 6 + (Math.floor(index / 60) % 12)) % 24;
  const shapes = [`${index % 60} ${hour} * * *`, `${index % 60} ${hour} * * 1-5`, `*/15 ${hour} * * *`, `${index % 60} ${hour} 1,15 * *`];
  const counted = index % 3 === 0;
  const schedule: Schedule = {
    id,
    experiment_id: experimentId,
    metadata: { team: 'payments' },
    parameters: { region: 'us-east-1' },
    ticket: {},
    recurrence_pattern: shapes[index % shapes.length] as string,
    recurrence_count: counted ? 100 : null,
    recurrence_left: counted ? 100 : null,
    ...SCHEDULE_DEFAULTS,
    generation: 1,
    created_by: 'bench',
    created_at: at,
    updated_by: 'bench',
    updated_at: at,
  };
  const item = { ...schedule, pk: `EXPERIMENT#${experimentId}`, sk: `SCHEDULE#${id}`, type: 'SCHEDULE', gsi1pk: 'SCHEDULE', gsi1sk: `${at}#${id}` };
  return { schedule, item };
}
