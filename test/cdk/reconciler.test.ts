import { reconcilerFunctionName } from '../../functions/reconciler/name.js';
import { actions, resource, resources, roleStatements, synth, type StatementJson, type Synthesized } from './synth.js';

let defaults: Synthesized;

beforeAll(() => {
  defaults = synth();
});

const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

describe('schedule reconciler', () => {
  const fn = () => resource(defaults.template, 'AWS::Lambda::Function', 'ReconcilerFunction');

  it('is a function with a fixed name, no reserved concurrency, run every 15 minutes by an EventBridge rule', () => {
    const [id, reconciler] = fn();
    expect(reconciler.Properties).toMatchObject({ FunctionName: reconcilerFunctionName('dev'), Timeout: 300, Runtime: 'nodejs22.x' });
    expect(reconciler.Properties?.['ReservedConcurrentExecutions']).toBeUndefined();
    // The stack's other rule routes trial-finished events (test/cdk/stack.test.ts).
    const rules = resources(defaults.template, 'AWS::Events::Rule').filter(([ruleId]) => ruleId.startsWith('Reconciler'));
    expect(rules).toHaveLength(1);
    expect(rules[0]?.[1].Properties).toMatchObject({ ScheduleExpression: 'rate(15 minutes)', State: 'ENABLED', Targets: [expect.objectContaining({ Arn: getAtt(id), RetryPolicy: { MaximumRetryAttempts: 0 } })] });
    const permissions = resources(defaults.template, 'AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties?.['FunctionName']) === JSON.stringify(getAtt(id)));
    expect(permissions.map(([, p]) => p.Properties?.['Principal'])).toEqual(['events.amazonaws.com']);
  });

  it('gets the table, the schedule group and what arming needs', () => {
    const [, reconciler] = fn();
    const [table] = resource(defaults.template, 'AWS::DynamoDB::Table', 'DataTable');
    const [queue] = resource(defaults.template, 'AWS::SQS::Queue', 'TrialsQueue');
    const [dlq] = resource(defaults.template, 'AWS::SQS::Queue', 'SchedulesDeadLetterQueue');
    const [role] = resource(defaults.template, 'AWS::IAM::Role', 'SchedulesRole');
    expect((reconciler.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      LOG_LEVEL: 'INFO',
      KALLISTI_TABLE: { Ref: table },
      KALLISTI_SCHEDULE_GROUP: 'kallisti-dev',
      KALLISTI_SCHEDULER_ROLE_ARN: getAtt(role),
      KALLISTI_SCHEDULE_TARGET_ARN: getAtt(queue),
      KALLISTI_SCHEDULE_DLQ_ARN: getAtt(dlq),
      POWERTOOLS_SERVICE_NAME: 'kallisti-dev',
      POWERTOOLS_METRICS_NAMESPACE: 'Kallisti',
    });
  });

  it('may list, create and delete schedules of its group only (listing takes "*"), and pass the scheduler role to Scheduler only', () => {
    const [roleId] = resource(defaults.template, 'AWS::IAM::Role', 'ReconcilerFunctionRole');
    const statements = roleStatements(defaults.template, roleId);
    const scheduler = statements.filter((st) => actions(st).some((a) => a.startsWith('scheduler:')));
    expect(scheduler.map((st) => [actions(st).sort(), st.Resource])).toEqual([
      [['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'], { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':schedule/kallisti-dev/*']] }],
      [['scheduler:ListSchedules'], '*'],
    ]);
    const passRole = statements.filter((st: StatementJson) => actions(st).includes('iam:PassRole'));
    expect(passRole).toHaveLength(1);
    expect(passRole[0]?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    expect(statements.some((st) => actions(st).some((a) => a.startsWith('sqs:')))).toBe(false);
  });

  it('reads and marks schedules in the table and its indexes, and nothing more: no put, delete or scan', () => {
    const [roleId] = resource(defaults.template, 'AWS::IAM::Role', 'ReconcilerFunctionRole');
    const [table] = resource(defaults.template, 'AWS::DynamoDB::Table', 'DataTable');
    const dynamo = roleStatements(defaults.template, roleId).filter((st) => actions(st).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect(actions(dynamo[0] as StatementJson).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(dynamo[0]?.Resource).toEqual([getAtt(table), { 'Fn::Join': ['', [getAtt(table), '/index/*']] }]);
  });

  it('alarms when a run found drift (the four kinds summed over its 15-minute period) and when the function fails', () => {
    const all = Object.fromEntries(resources(defaults.template, 'AWS::CloudWatch::Alarm').map(([, a]) => [a.Properties?.['AlarmName'] as string, a.Properties ?? {}]));
    const drift = all['kallisti-dev-schedule-drift'] as { Metrics: { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: unknown[] }; Period: number; Stat: string } }[] } & Record<string, unknown>;
    expect(drift).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    expect(drift.Metrics.find((m) => m.Expression)?.Expression).toBe('FILL(orphan, 0) + FILL(missing, 0) + FILL(stale, 0) + FILL(cascaded, 0)');
    const stats = drift.Metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat?.Metric.MetricName, m.MetricStat?.Metric.Dimensions, m.MetricStat?.Period, m.MetricStat?.Stat]);
    expect(stats.sort()).toEqual(
      ['cascaded', 'missing', 'orphan', 'stale'].map((kind) => [kind, 'ScheduleDrift', [{ Name: 'Kind', Value: kind }, { Name: 'service', Value: 'kallisti-dev' }], 900, 'Sum']),
    );
    const [fnId] = fn();
    expect(all['kallisti-dev-reconciler-errors']).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }], Period: 900, Threshold: 1 });
  });
});
