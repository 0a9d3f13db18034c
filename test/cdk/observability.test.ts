import { definitionOf, METRIC_NAMES, METRICS_NAMESPACE, SERVICE_DIMENSION, type MetricName } from '../../functions/metrics/catalog.js';
import { FIRING_LAG_THRESHOLD, queueAgeThreshold } from '../../lib/alarms.js';
import { kallistiMetric } from '../../lib/kallisti-metrics.js';
import { resource, resources, type CfnResourceJson, synth, type Synthesized } from './synth.js';

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:ops-pager';

let plain: Synthesized;
let notified: Synthesized;

beforeAll(() => {
  plain = synth();
  notified = synth({ stage: 'prod', openAccess: 'true', alarmEmail: 'oncall@example.com', alarmTopicArn: TOPIC_ARN });
});

/**
 * The dashboard body as JSON: CloudFormation intrinsics inside the Fn::Join become
 * placeholders naming what they point at (`{GetAtt:Queue.QueueName}`, `{Ref:Fn}`).
 */
function dashboardBody(s: Synthesized): { widgets: { type: string; properties: Record<string, unknown> }[] } {
  const [, dashboard] = resource(s.template, 'AWS::CloudWatch::Dashboard', 'Dashboard');
  const body = dashboard.Properties?.['DashboardBody'] as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const p = part as Record<string, unknown>;
      if ('Ref' in p) return `{Ref:${String(p['Ref'])}}`;
      if ('Fn::GetAtt' in p) return `{GetAtt:${(p['Fn::GetAtt'] as string[]).join('.')}}`;
      throw new Error(`unexpected intrinsic ${JSON.stringify(p)}`);
    })
    .join('');
  return JSON.parse(text) as { widgets: { type: string; properties: Record<string, unknown> }[] };
}

/** Each metric line of a graph widget: [namespace, name, dimName, dimValue, …, options?] or [{ expression }]. */
type MetricLine = unknown[];

function logicalIdOf(placeholder: string, kind: 'Ref' | 'GetAtt'): string {
  const match = new RegExp(`^\\{${kind}:([A-Za-z0-9]+)`).exec(placeholder);
  if (!match) throw new Error(`${placeholder} is not a ${kind} placeholder`);
  return match[1] as string;
}

function typeOf(s: Synthesized, logicalId: string): string | undefined {
  return (s.template.toJSON()['Resources'] as Record<string, CfnResourceJson>)[logicalId]?.Type;
}

/** Throws unless the line names a metric something in this stack publishes. */
function assertPublished(s: Synthesized, line: MetricLine): string {
  const first = line[0];
  if (typeof first === 'object' && first !== null && 'expression' in first) {
    const expression = (first as { expression: string }).expression;
    const search = /^SEARCH\('\{(\w+),(\w+),(\w+)\} MetricName="(\w+)" (\w+)="([\w-]+)"', '[\w.]+', \d+\)$/.exec(expression);
    if (!search) throw new Error(`unexpected expression ${expression}`);
    const [, namespace, serviceKey, dimension, name, serviceKey2, service] = search;
    expect(namespace).toBe(METRICS_NAMESPACE);
    expect([serviceKey, serviceKey2]).toEqual([SERVICE_DIMENSION, SERVICE_DIMENSION]);
    expect(service).toBe(`kallisti-${s.settings.stage}`);
    expect(METRIC_NAMES).toContain(name);
    expect(definitionOf(name as MetricName).dimensions).toContain(dimension);
    return `${namespace}/${name} by ${dimension}`;
  }
  const [namespace, name, ...rest] = line as [string, string, ...unknown[]];
  const dims: Record<string, string> = {};
  for (let i = 0; i + 1 < rest.length && typeof rest[i] === 'string'; i += 2) dims[rest[i] as string] = rest[i + 1] as string;
  switch (namespace) {
    case METRICS_NAMESPACE: {
      expect(METRIC_NAMES).toContain(name);
      const { [SERVICE_DIMENSION]: service, ...own } = dims;
      expect(service).toBe(`kallisti-${s.settings.stage}`);
      expect(Object.keys(own).sort()).toEqual([...definitionOf(name as MetricName).dimensions].sort());
      break;
    }
    case 'AWS/SQS':
      expect(['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateAgeOfOldestMessage']).toContain(name);
      expect(typeOf(s, logicalIdOf(dims['QueueName'] ?? '', 'GetAtt'))).toBe('AWS::SQS::Queue');
      break;
    case 'AWS/Lambda':
      expect(['Duration', 'Errors', 'Throttles']).toContain(name);
      expect(typeOf(s, logicalIdOf(dims['FunctionName'] ?? '', 'Ref'))).toBe('AWS::Lambda::Function');
      break;
    case 'AWS/ApiGateway':
      expect(['Count', '4XXError', '5XXError', 'Latency', 'IntegrationLatency']).toContain(name);
      expect(dims['ApiName']).toBe(`kallisti-${s.settings.stage}`);
      expect(resources(s.template, 'AWS::ApiGateway::RestApi').map(([, api]) => api.Properties?.['Name'])).toContain(dims['ApiName']);
      break;
    default:
      throw new Error(`metric of unknown namespace ${namespace}`);
  }
  return `${namespace}/${name}`;
}

describe('CloudWatch dashboard', () => {
  it('is named after the stage and linked from the outputs', () => {
    const [, dashboard] = resource(plain.template, 'AWS::CloudWatch::Dashboard', 'Dashboard');
    expect(dashboard.Properties?.['DashboardName']).toBe('kallisti-dev');
    const outputs = plain.template.toJSON()['Outputs'] as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs['DashboardUrl']?.Value)).toContain('#dashboards:name=kallisti-dev');
  });

  it('references only metrics the stack publishes: its own resources, or the catalog with its dimensions', () => {
    for (const s of [plain, notified]) {
      const shown = new Set<string>();
      for (const widget of dashboardBody(s).widgets) {
        if (widget.type !== 'metric') continue;
        const metrics = widget.properties['metrics'] as MetricLine[] | undefined;
        if (!metrics) continue; // the alarm status widget lists alarms, checked below
        for (const line of metrics) shown.add(assertPublished(s, line));
      }
      // What the issue asks to see at a glance.
      expect([...shown]).toEqual(
        expect.arrayContaining([
          'AWS/ApiGateway/4XXError',
          'AWS/ApiGateway/5XXError',
          'AWS/ApiGateway/Latency',
          'AWS/SQS/ApproximateNumberOfMessagesVisible',
          'AWS/SQS/ApproximateAgeOfOldestMessage',
          'Kallisti/FiringLag',
          'Kallisti/TrialsFinished',
          'AWS/Lambda/Duration',
          'Kallisti/StepDuration by Module',
          'Kallisti/Firings by Outcome',
          'Kallisti/TrialSlices',
          'Kallisti/QueueHandOffs',
        ]),
      );
    }
  });

  it('shows the dead-letter queues of both queues and the state of every alarm', () => {
    const body = dashboardBody(plain);
    const queues = new Set<string>();
    for (const widget of body.widgets) {
      for (const line of (widget.properties['metrics'] as MetricLine[] | undefined) ?? []) {
        if (line[0] === 'AWS/SQS' && line[1] === 'ApproximateNumberOfMessagesVisible') queues.add(logicalIdOf(line[3] as string, 'GetAtt'));
      }
    }
    expect([...queues].sort()).toEqual(
      [resource(plain.template, 'AWS::SQS::Queue', 'TrialsQueue')[0], resource(plain.template, 'AWS::SQS::Queue', 'TrialsDeadLetterQueue')[0], resource(plain.template, 'AWS::SQS::Queue', 'SchedulesDeadLetterQueue')[0]].sort(),
    );
    const status = body.widgets.find((w) => Array.isArray(w.properties['alarms']));
    const alarmIds = resources(plain.template, 'AWS::CloudWatch::Alarm').map(([id]) => id);
    expect((status?.properties['alarms'] as string[]).map((a) => logicalIdOf(a, 'GetAtt')).sort()).toEqual(alarmIds.sort());
  });

  it('refuses a dimension a catalog metric does not have', () => {
    expect(() => kallistiMetric('dev', 'FiringLag', { dimensions: { Module: 'cm.wait' } })).toThrow('Metric FiringLag has no dimension Module');
  });
});

describe('alarms added for operations', () => {
  const alarms = (s: Synthesized) => Object.fromEntries(resources(s.template, 'AWS::CloudWatch::Alarm').map(([, a]) => [a.Properties?.['AlarmName'] as string, a.Properties ?? {}]));

  it('a stuck trial queue, late firings and overdue trials', () => {
    const all = alarms(plain);
    const queue = resource(plain.template, 'AWS::SQS::Queue', 'TrialsQueue')[0];
    expect(all['kallisti-dev-queue-age']).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum',
      Threshold: queueAgeThreshold().toSeconds(),
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
    });
    expect(queueAgeThreshold().toSeconds()).toBe(20 * 60);
    expect(all['kallisti-dev-firing-lag']).toMatchObject({
      Namespace: 'Kallisti',
      MetricName: 'FiringLag',
      Statistic: 'Maximum',
      Threshold: 120_000,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'service', Value: 'kallisti-dev' }],
    });
    expect(FIRING_LAG_THRESHOLD.toMinutes()).toBe(2);
    expect(all['kallisti-dev-overdue-trials']).toMatchObject({ Namespace: 'Kallisti', MetricName: 'OverdueTrials', Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(all['kallisti-dev-trial-dlq']).toBeDefined();
    expect(all['kallisti-dev-schedule-dlq']).toBeDefined();
  });

  it('every alarm notifies the given topic and the e-mail topic, on alarm and on recovery', () => {
    const [emailTopic] = resource(notified.template, 'AWS::SNS::Topic', 'AlarmsTopic');
    const all = Object.entries(alarms(notified));
    expect(all.length).toBe(12);
    for (const [, alarm] of all) {
      expect(alarm['AlarmActions']).toEqual([{ Ref: emailTopic }, TOPIC_ARN]);
      expect(alarm['OKActions']).toEqual([{ Ref: emailTopic }, TOPIC_ARN]);
    }
  });

  it('a topic alone needs no e-mail', () => {
    const onlyTopic = synth({ alarmTopicArn: TOPIC_ARN });
    expect(resources(onlyTopic.template, 'AWS::SNS::Topic').filter(([id]) => id.startsWith('Alarms'))).toEqual([]);
    for (const [, alarm] of Object.entries(alarms(onlyTopic))) expect(alarm['AlarmActions']).toEqual([TOPIC_ARN]);
  });

  it('turns on the Tracer in both functions only with the tracing flag', () => {
    const traced = synth({ tracing: 'true' });
    const env = (s: Synthesized) =>
      resources(s.template, 'AWS::Lambda::Function')
        .filter(([id]) => /^(Api|Worker)Function/.test(id))
        .map(([, fn]) => (fn.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables['KALLISTI_TRACING']);
    expect(env(traced)).toEqual(['true', 'true']);
    expect(env(plain)).toEqual([undefined, undefined]);
  });

  it('both functions publish under the stage’s service name', () => {
    for (const [, fn] of resources(notified.template, 'AWS::Lambda::Function').filter(([id]) => /^(Api|Worker)Function/.test(id))) {
      expect((fn.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'kallisti-prod', POWERTOOLS_METRICS_NAMESPACE: 'Kallisti' });
    }
  });
});
