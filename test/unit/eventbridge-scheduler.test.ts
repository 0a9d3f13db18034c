import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ListSchedulesCommand, ResourceNotFoundException, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeCloudScheduler } from '../../functions/adapters/scheduler/eventbridge-scheduler.js';
import { SCHEDULE_DEFAULTS, type Schedule } from '../../functions/domain/schedule.js';

const scheduler = mockClient(SchedulerClient);
afterEach(() => scheduler.reset());

const target = {
  queueArn: 'arn:aws:sqs:eu-west-1:123456789012:kallisti-dev-trials.fifo',
  roleArn: 'arn:aws:iam::123456789012:role/kallisti-dev-scheduler',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:123456789012:kallisti-dev-schedule-dlq',
};
const clock = { now: () => new Date('2027-03-01T10:00:30Z') };
const adapter = () => new EventBridgeCloudScheduler(new SchedulerClient({ region: 'eu-west-1' }), { groupName: 'kallisti-dev', target, clock });

function schedule(overrides: Partial<Schedule> = {}): Schedule {
  return {
    id: '73919897-0835-4ad6-bfc6-2b332c9d615f',
    experiment_id: 'd4e4a9cd-d97a-472c-977b-9f92338db2e1',
    metadata: {},
    parameters: {},
    ticket: {},
    recurrence_pattern: '*/5 * * * *',
    recurrence_count: null,
    recurrence_left: null,
    ...SCHEDULE_DEFAULTS,
    generation: 1,
    created_by: 'a',
    created_at: '2027-03-01T10:00:00Z',
    updated_by: 'a',
    updated_at: '2027-03-01T10:00:00Z',
    ...overrides,
  };
}

const expectedInput =
  '{"kind":"schedule-firing","schedule_id":"73919897-0835-4ad6-bfc6-2b332c9d615f","experiment_id":"d4e4a9cd-d97a-472c-977b-9f92338db2e1","generation":1,"schedule_arn":"<aws.scheduler.schedule-arn>","scheduled_time":"<aws.scheduler.scheduled-time>"}';
const ID = '73919897-0835-4ad6-bfc6-2b332c9d615f';
const notFound = () => new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} });
const conflict = () => new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} });

describe('EventBridgeCloudScheduler', () => {
  it('creates one schedule per generation with the full definition targeting the FIFO queue', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await adapter().arm(schedule(), false);
    expect(scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input)).toEqual([
      {
        Name: '73919897-0835-4ad6-bfc6-2b332c9d615f-g1-0',
        GroupName: 'kallisti-dev',
        ScheduleExpression: 'cron(0/5 * * * ? *)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Description: 'Kallisti schedule 73919897-0835-4ad6-bfc6-2b332c9d615f (experiment d4e4a9cd-d97a-472c-977b-9f92338db2e1, generation 1): */5 * * * * (UTC)',
        ActionAfterCompletion: 'NONE',
        Target: {
          Arn: target.queueArn,
          RoleArn: target.roleArn,
          Input: expectedInput,
          SqsParameters: { MessageGroupId: 'kallisti-trials' },
          DeadLetterConfig: { Arn: target.deadLetterArn },
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
        },
      },
    ]);
    // A new schedule has no previous generation to remove, and nothing is ever updated in place.
    expect(scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(0);
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });

  it('arms a changed schedule as a new generation, then removes the previous generation (both names, missing ones fine)', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    scheduler.on(DeleteScheduleCommand).rejects(notFound());
    await adapter().arm(schedule({ generation: 4 }));
    expect(scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input.Name)).toEqual([`${ID}-g4-0`]);
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input.Target?.Input).toContain('"generation":4');
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input.Name).sort()).toEqual([`${ID}-g3-0`, `${ID}-g3-1`]);
  });

  it('removes the names of schedules armed before generations existed when generation 1 replaces them', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    scheduler.on(DeleteScheduleCommand).resolves({});
    await adapter().arm(schedule({ generation: 1 }));
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input.Name).sort()).toEqual([`${ID}-0`, `${ID}-1`]);
  });

  it('takes a ConflictException on create as armed already (same generation, same definition)', async () => {
    scheduler.on(CreateScheduleCommand).rejects(conflict());
    await expect(adapter().arm(schedule(), false)).resolves.toBeUndefined();
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });

  it('gives a counted schedule an EndDate one full period (and a minute) after its last remaining fire time, and lets it delete itself', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    scheduler.on(DeleteScheduleCommand).resolves({});
    await adapter().arm(schedule({ recurrence_count: 3, recurrence_left: 3 }));
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    // Fire times after 10:00:30 are 10:05, 10:10, 10:15; one period (5 minutes) and a minute later: one spare firing at 10:20.
    expect(input?.EndDate).toEqual(new Date('2027-03-01T10:21:00Z'));
    expect(input?.ActionAfterCompletion).toBe('DELETE');
  });

  it('takes the longest gap of an irregular pattern as its period', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    // Weekdays at 09:00 after Monday 1 March 2027 10:00: Tue 2 … Fri 5, Mon 8 (the fifth); the longest gap is the weekend, 3 days.
    await adapter().arm(schedule({ recurrence_pattern: '0 9 * * 1-5', recurrence_count: 5, recurrence_left: 5 }), false);
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(input?.EndDate).toEqual(new Date('2027-03-11T09:01:00Z'));
  });

  it.each([1_001, 1_000_000, 1_000_000_000])('leaves a schedule with %d firings left open-ended, computed in bounded time', async (left) => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const started = performance.now();
    await adapter().arm(schedule({ recurrence_pattern: '* * * * *', recurrence_count: left, recurrence_left: left }), false);
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(input?.EndDate).toBeUndefined();
    expect(input?.ActionAfterCompletion).toBe('NONE');
    // Not a timing threshold: a walk over 10^9 fire times would never get here at all.
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it('creates two schedules when day-of-month and day-of-week are both restricted', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    await adapter().arm(schedule({ recurrence_pattern: '0 12 1 * 1' }));
    expect(scheduler.commandCalls(CreateScheduleCommand).map((c) => [c.args[0].input.Name, c.args[0].input.ScheduleExpression])).toEqual([
      [`${ID}-g1-0`, 'cron(0 12 1 * ? *)'],
      [`${ID}-g1-1`, 'cron(0 12 ? * 2 *)'],
    ]);
  });

  it('disarms both names of this generation and of the one before, and tolerates missing ones', async () => {
    scheduler.on(DeleteScheduleCommand).rejects(notFound());
    await adapter().disarm(schedule({ generation: 2 }));
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input.Name).sort()).toEqual([`${ID}-g1-0`, `${ID}-g1-1`, `${ID}-g2-0`, `${ID}-g2-1`]);
  });

  it('removes one cloud schedule by the ARN a firing carries, and never one of another group', async () => {
    scheduler.on(DeleteScheduleCommand).resolves({});
    await adapter().remove(`arn:aws:scheduler:eu-west-1:123456789012:schedule/kallisti-dev/${ID}-g3-1`);
    await adapter().remove(`arn:aws:scheduler:eu-west-1:123456789012:schedule/someone-else/${ID}-g3-1`);
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input)).toEqual([{ Name: `${ID}-g3-1`, GroupName: 'kallisti-dev' }]);
  });

  it('lists the group a page of 100 at a time, reading schedule id and generation from each name', async () => {
    const modified = new Date('2027-03-01T09:00:00Z');
    scheduler
      .on(ListSchedulesCommand, { GroupName: 'kallisti-dev', MaxResults: 100, NextToken: undefined })
      .resolves({ Schedules: [{ Name: `${ID}-g2-0`, LastModificationDate: modified }, { Name: `${ID}-1` }], NextToken: 'page2' })
      .on(ListSchedulesCommand, { GroupName: 'kallisti-dev', MaxResults: 100, NextToken: 'page2' })
      .resolves({ Schedules: [{ Name: 'hand-made' }] });
    const pages = [];
    for await (const page of adapter().list()) pages.push(page);
    expect(pages).toEqual([
      [
        { name: `${ID}-g2-0`, scheduleId: ID, generation: 2, modifiedAt: modified },
        { name: `${ID}-1`, scheduleId: ID, generation: 0 },
      ],
      [{ name: 'hand-made' }],
    ]);
  });

  it('passes other Scheduler errors up (the caller logs them; reconciliation repairs)', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new Error('ThrottlingException'));
    await expect(adapter().arm(schedule())).rejects.toThrow('ThrottlingException');
  });
});
