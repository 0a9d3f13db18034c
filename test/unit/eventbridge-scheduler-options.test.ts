/**
 * The production options of a schedule reach EventBridge Scheduler: time zone,
 * state, dates and flexible window, on CreateSchedule and on UpdateSchedule,
 * which replaces every field and so must carry the whole definition again.
 */
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeCloudScheduler } from '../../functions/adapters/scheduler/eventbridge-scheduler.js';
import { SCHEDULE_DEFAULTS, type Schedule } from '../../functions/domain/schedule.js';

const scheduler = mockClient(SchedulerClient);
beforeEach(() => {
  scheduler.reset();
  scheduler.on(DeleteScheduleCommand).resolves({});
});

const target = {
  queueArn: 'arn:aws:sqs:us-east-1:123456789012:kallisti-prod-trials.fifo',
  roleArn: 'arn:aws:iam::123456789012:role/kallisti-prod-scheduler',
  deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:kallisti-prod-schedule-dlq',
};
const NOW = new Date('2027-03-01T10:00:30Z');
const adapter = () => new EventBridgeCloudScheduler(new SchedulerClient({ region: 'us-east-1' }), { groupName: 'kallisti-prod', target, clock: { now: () => NOW } });
const ID = '0b6f7a52-9c1d-4e8b-a7d3-5f2e1c9b4a80';
const EXPERIMENT = 'd4e4a9cd-d97a-472c-977b-9f92338db2e1';

function schedule(overrides: Partial<Schedule> = {}): Schedule {
  return {
    id: ID,
    experiment_id: EXPERIMENT,
    metadata: {},
    parameters: {},
    ticket: {},
    recurrence_pattern: '0 9-17 * * 1-5',
    recurrence_count: null,
    recurrence_left: null,
    generation: 1,
    ...SCHEDULE_DEFAULTS,
    created_by: 'a',
    created_at: '2027-03-01T10:00:00Z',
    updated_by: 'a',
    updated_at: '2027-03-01T10:00:00Z',
    ...overrides,
  };
}

const businessHours = schedule({
  timezone: 'America/New_York',
  start_date: '2027-03-08T00:00:00.000Z',
  end_date: '2027-06-30T00:00:00.000Z',
  jitter_seconds: 600,
});

const expectedBusinessHours = {
  Name: `${ID}-g1-0`,
  GroupName: 'kallisti-prod',
  ScheduleExpression: 'cron(0 9-17 ? * 2-6 *)',
  ScheduleExpressionTimezone: 'America/New_York',
  FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 10 },
  State: 'ENABLED',
  Description: `Kallisti schedule ${ID} (experiment ${EXPERIMENT}, generation 1): 0 9-17 * * 1-5 (America/New_York)`,
  StartDate: new Date('2027-03-08T00:00:00.000Z'),
  EndDate: new Date('2027-06-30T00:00:00.000Z'),
  ActionAfterCompletion: 'DELETE',
  Target: {
    Arn: target.queueArn,
    RoleArn: target.roleArn,
    Input: `{"kind":"schedule-firing","schedule_id":"${ID}","experiment_id":"${EXPERIMENT}","generation":1,"schedule_arn":"<aws.scheduler.schedule-arn>","scheduled_time":"<aws.scheduler.scheduled-time>"}`,
    SqsParameters: { MessageGroupId: 'kallisti-trials' },
    DeadLetterConfig: { Arn: target.deadLetterArn },
    RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
  },
};

describe('EventBridgeCloudScheduler with time zone, state, dates and jitter', () => {
  it('sends the time zone, state, start and end dates and the flexible window on CreateSchedule', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    await adapter().arm(businessHours);
    expect(scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input)).toEqual([expectedBusinessHours]);
  });

  it('keeps the existing cloud schedule of the same generation (ConflictException) and never updates one in place', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));
    await adapter().arm(businessHours, false);
    expect(scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input)).toEqual([expectedBusinessHours]);
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });

  it('keeps a paused schedule defined with State DISABLED and no count safety net', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    await adapter().arm(schedule({ state: 'DISABLED', recurrence_count: 5, recurrence_left: 2 }));
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(input?.State).toBe('DISABLED');
    expect(input?.EndDate).toBeUndefined();
    expect(input?.ActionAfterCompletion).toBe('NONE');
    expect(input?.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
  });

  it('leaves out a start date already passed (Scheduler refuses one more than 5 minutes old)', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    await adapter().arm(schedule({ start_date: '2027-02-01T00:00:00.000Z' }));
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input).not.toHaveProperty('StartDate');
  });

  it('ends a counted schedule at its last firing in its zone when that comes before the end date', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    // 08:00 in Kathmandu (+05:45) is 02:15 UTC: after 10:00:30 UTC on Monday 1 March the next two are 2 and 3 March;
    // then one full period (a day) and a minute of margin.
    await adapter().arm(schedule({ recurrence_pattern: '0 8 * * *', timezone: 'Asia/Kathmandu', recurrence_count: 2, recurrence_left: 2, end_date: '2027-12-31T00:00:00.000Z' }));
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(input?.ScheduleExpressionTimezone).toBe('Asia/Kathmandu');
    expect(input?.EndDate).toEqual(new Date('2027-03-04T02:16:00.000Z'));
    expect(input?.ActionAfterCompletion).toBe('DELETE');
  });

  it('removes the cloud schedules instead when nothing is left to fire before the end date', async () => {
    await adapter().arm(schedule({ recurrence_pattern: '0 9 * * 6', start_date: '2027-03-08T00:00:00.000Z', end_date: '2027-03-12T00:00:00.000Z' }));
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(0);
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input.Name).sort()).toEqual([`${ID}-0`, `${ID}-1`, `${ID}-g1-0`, `${ID}-g1-1`]);
  });

  it('gives both halves of a day-of-month OR day-of-week pattern the same zone, state, dates and window', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    await adapter().arm({ ...businessHours, recurrence_pattern: '30 2 1 * 0', timezone: 'Europe/London', state: 'DISABLED' });
    const inputs = scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => [i.ScheduleExpression, i.ScheduleExpressionTimezone, i.State, i.StartDate, i.EndDate, i.FlexibleTimeWindow])).toEqual([
      ['cron(30 2 1 * ? *)', 'Europe/London', 'DISABLED', new Date('2027-03-08T00:00:00.000Z'), new Date('2027-06-30T00:00:00.000Z'), { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 10 }],
      ['cron(30 2 ? * 1 *)', 'Europe/London', 'DISABLED', new Date('2027-03-08T00:00:00.000Z'), new Date('2027-06-30T00:00:00.000Z'), { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 10 }],
    ]);
  });
});
