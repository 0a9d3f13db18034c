import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
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
    created_by: 'a',
    created_at: '2027-03-01T10:00:00Z',
    updated_by: 'a',
    updated_at: '2027-03-01T10:00:00Z',
    ...overrides,
  };
}

const expectedInput =
  '{"kind":"schedule-firing","schedule_id":"73919897-0835-4ad6-bfc6-2b332c9d615f","experiment_id":"d4e4a9cd-d97a-472c-977b-9f92338db2e1","schedule_arn":"<aws.scheduler.schedule-arn>","scheduled_time":"<aws.scheduler.scheduled-time>"}';

describe('EventBridgeCloudScheduler', () => {
  it('creates one schedule with the full definition targeting the FIFO queue', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    scheduler.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException({ message: 'nope', Message: 'nope', $metadata: {} }));
    await adapter().arm(schedule());
    expect(scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input)).toEqual([
      {
        Name: '73919897-0835-4ad6-bfc6-2b332c9d615f-0',
        GroupName: 'kallisti-dev',
        ScheduleExpression: 'cron(0/5 * * * ? *)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Description: 'Kallisti schedule 73919897-0835-4ad6-bfc6-2b332c9d615f (experiment d4e4a9cd-d97a-472c-977b-9f92338db2e1): */5 * * * * (UTC)',
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
    // The second name of an OR pattern is cleaned up in case the pattern used to need it.
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input)).toEqual([{ Name: '73919897-0835-4ad6-bfc6-2b332c9d615f-1', GroupName: 'kallisti-dev' }]);
  });

  it('gives a counted schedule an EndDate after its last remaining fire time and lets it delete itself', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    scheduler.on(DeleteScheduleCommand).resolves({});
    await adapter().arm(schedule({ recurrence_count: 3, recurrence_left: 3 }));
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    // Fire times after 10:00:30 are 10:05, 10:10, 10:15: the third, plus a minute.
    expect(input?.EndDate).toEqual(new Date('2027-03-01T10:16:00Z'));
    expect(input?.ActionAfterCompletion).toBe('DELETE');
  });

  it('creates two schedules when day-of-month and day-of-week are both restricted', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    await adapter().arm(schedule({ recurrence_pattern: '0 12 1 * 1' }));
    expect(scheduler.commandCalls(CreateScheduleCommand).map((c) => [c.args[0].input.Name, c.args[0].input.ScheduleExpression])).toEqual([
      ['73919897-0835-4ad6-bfc6-2b332c9d615f-0', 'cron(0 12 1 * ? *)'],
      ['73919897-0835-4ad6-bfc6-2b332c9d615f-1', 'cron(0 12 ? * 2 *)'],
    ]);
    expect(scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(0);
  });

  it('updates with the same full definition when the schedule exists', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));
    scheduler.on(UpdateScheduleCommand).resolves({});
    scheduler.on(DeleteScheduleCommand).resolves({});
    const a = adapter();
    await a.arm(schedule({ recurrence_pattern: '0 9 * * 1-5' }));
    const update = scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input;
    expect(update).toEqual(a.definitions(schedule({ recurrence_pattern: '0 9 * * 1-5' }))[0]);
    expect(update?.ScheduleExpression).toBe('cron(0 9 ? * 2-6 *)');
  });

  it('disarms both possible names and tolerates missing ones', async () => {
    scheduler.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} }));
    await adapter().disarm(schedule());
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input.Name)).toEqual([
      '73919897-0835-4ad6-bfc6-2b332c9d615f-0',
      '73919897-0835-4ad6-bfc6-2b332c9d615f-1',
    ]);
  });

  it('passes other Scheduler errors up so the API can undo and answer 503', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new Error('ThrottlingException'));
    await expect(adapter().arm(schedule())).rejects.toThrow('ThrottlingException');
  });
});
