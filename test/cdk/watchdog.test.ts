import { WATCHDOG_QUEUE_ACTIONS, WATCHDOG_TABLE_ACTIONS } from '../../lib/watchdog.js';
import { actions, resource, resources, roleStatements, synth, type StatementJson, type Synthesized } from './synth.js';

let defaults: Synthesized;

beforeAll(() => {
  defaults = synth();
});

const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

describe('watchdog', () => {
  const fn = () => resource(defaults.template, 'AWS::Lambda::Function', 'WatchdogFunction');

  it('is a function with no reserved concurrency, run every 5 minutes by an EventBridge rule that does not retry', () => {
    const [id, watchdog] = fn();
    expect(watchdog.Properties).toMatchObject({ FunctionName: 'kallisti-dev-watchdog', Timeout: 120, Runtime: 'nodejs22.x', Handler: 'index.handler' });
    expect(watchdog.Properties?.['ReservedConcurrentExecutions']).toBeUndefined();
    defaults.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED', Targets: [{ Arn: getAtt(id), Id: 'Target0', RetryPolicy: { MaximumRetryAttempts: 0 } }] });
    const permissions = resources(defaults.template, 'AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties?.['FunctionName']) === JSON.stringify(getAtt(id)));
    expect(permissions.map(([, p]) => p.Properties?.['Principal'])).toEqual(['events.amazonaws.com']);
  });

  it('knows the table and the trial queue, and publishes its metric under the stage', () => {
    const [, watchdog] = fn();
    const [table] = resource(defaults.template, 'AWS::DynamoDB::Table', 'DataTable');
    const [queue] = resource(defaults.template, 'AWS::SQS::Queue', 'TrialsQueue');
    expect((watchdog.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      LOG_LEVEL: 'INFO',
      KALLISTI_TABLE: { Ref: table },
      KALLISTI_QUEUE_URL: { Ref: queue },
      POWERTOOLS_SERVICE_NAME: 'kallisti-dev',
      POWERTOOLS_METRICS_NAMESPACE: 'Kallisti',
    });
  });

  it('may query, batch-read, get, put and update the table and its indexes, read the queue attributes and send to it, and nothing more', () => {
    const [roleId] = resource(defaults.template, 'AWS::IAM::Role', 'WatchdogFunctionRole');
    const [table] = resource(defaults.template, 'AWS::DynamoDB::Table', 'DataTable');
    const [queue] = resource(defaults.template, 'AWS::SQS::Queue', 'TrialsQueue');
    const statements = roleStatements(defaults.template, roleId);
    const ours = statements.filter((st) => actions(st).some((a) => a.startsWith('dynamodb:') || a.startsWith('sqs:')));
    expect(ours.map((st: StatementJson) => [actions(st).sort(), st.Resource])).toEqual([
      [[...WATCHDOG_TABLE_ACTIONS].sort(), [getAtt(table), { 'Fn::Join': ['', [getAtt(table), '/index/*']] }]],
      [[...WATCHDOG_QUEUE_ACTIONS].sort(), getAtt(queue)],
    ]);
    expect(WATCHDOG_TABLE_ACTIONS).not.toContain('dynamodb:Scan');
    // It runs no step: none of the chaos permissions, no scheduler, no logs beyond its own.
    expect(statements.flatMap(actions).filter((a) => !/^(dynamodb|sqs|logs|xray):/.test(a))).toEqual([]);
  });

  it('alarms when it fails, when it ends a trial, and when the worker fails a message', () => {
    const all = Object.fromEntries(resources(defaults.template, 'AWS::CloudWatch::Alarm').map(([, a]) => [a.Properties?.['AlarmName'] as string, a.Properties ?? {}]));
    const [fnId] = fn();
    expect(all['kallisti-dev-watchdog-errors']).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }], Period: 300, Threshold: 1 });
    expect(all['kallisti-dev-overdue-trials']).toMatchObject({ Namespace: 'Kallisti', MetricName: 'OverdueTrials', Statistic: 'Sum', Threshold: 1 });
    const failures = all['kallisti-dev-message-failures'] as { Metrics: { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: unknown[] } } }[] } & Record<string, unknown>;
    expect(failures).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    expect(failures.Metrics.find((m) => m.Expression)?.Expression).toBe('FILL(retried, 0) + FILL(given_up, 0)');
    expect(failures.Metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat?.Metric.MetricName, m.MetricStat?.Metric.Dimensions]).sort()).toEqual([
      ['given_up', 'MessageFailures', [{ Name: 'Outcome', Value: 'given_up' }, { Name: 'service', Value: 'kallisti-dev' }]],
      ['retried', 'MessageFailures', [{ Name: 'Outcome', Value: 'retried' }, { Name: 'service', Value: 'kallisti-dev' }]],
    ]);
  });
});
