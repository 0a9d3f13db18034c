import { App, Token, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { addKallistiStack } from '../../lib/kallisti-app.js';
import { synth, TEST_AUTH_CONTEXT, testApp, type Synthesized } from './synth.js';

/** Every acknowledgment in the tree: `path: rule id` → reason. */
function acknowledgments(root: IConstruct): Map<string, string> {
  const found = new Map<string, string>();
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.set(`${construct.node.path}: ${id.replace(/^annotation::/i, '')}`, reason);
      }
    }
  }
  return found;
}

const describeViolations = (s: Synthesized) =>
  new AwsSolutionsChecks(s.app, { verbose: true })
    .validateScope(s.app)
    .violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}: ${v.description}`);

let defaults: Synthesized;
let full: Synthesized;

beforeAll(() => {
  defaults = synth();
  full = synth({ stage: 'prod', openAccess: 'true', tracing: 'true', alarmEmail: 'oncall@example.com', retain: 'false' });
});

describe('cdk-nag AwsSolutionsChecks', () => {
  it('finds nothing left unacknowledged in the default stack', () => {
    expect(describeViolations(defaults)).toEqual([]);
  });

  it('finds nothing left unacknowledged with tracing, alarm e-mail and retain=false', () => {
    expect(describeViolations(full)).toEqual([]);
  });

  it('acknowledges only these findings, each with a written reason', () => {
    const table = defaults.stack.getLogicalId(defaults.stack.node.findChild('Data').node.findChild('Table').node.defaultChild as never);
    const expected = [
      'kallisti-dev/ApiFunction/Function: AwsSolutions-L1',
      'kallisti-dev/WorkerFunction/Function: AwsSolutions-L1',
      'kallisti-dev/TrialFinished/Topic: AwsSolutions-SNS2',
      'kallisti-dev/ApiFunction/Role: AwsSolutions-IAM5[Resource::*]',
      `kallisti-dev/ApiFunction/Role: AwsSolutions-IAM5[Resource::<${table}.Arn>/index/*]`,
      'kallisti-dev/ApiFunction/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/kallisti-dev/*]',
      `kallisti-dev/WorkerFunction/Role: AwsSolutions-IAM5[Resource::<${table}.Arn>/index/*]`,
      'kallisti-dev/WorkerFunction/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/kallisti-dev/*]',
      'kallisti-dev/WorkerFunction/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:kallisti/dev/*]',
      'kallisti-dev/WorkerFunction/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/kallisti/dev/*]',
      'kallisti-dev/Reconciler/Function/Function: AwsSolutions-L1',
      'kallisti-dev/Reconciler/Function/Role: AwsSolutions-IAM5[Resource::*]',
      `kallisti-dev/Reconciler/Function/Role: AwsSolutions-IAM5[Resource::<${table}.Arn>/index/*]`,
      'kallisti-dev/Reconciler/Function/Role: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/kallisti-dev/*]',
      'kallisti-dev/Watchdog/Function/Function: AwsSolutions-L1',
      `kallisti-dev/Watchdog/Function/Role: AwsSolutions-IAM5[Resource::<${table}.Arn>/index/*]`,
      'kallisti-dev/Schedules/DeadLetterQueue: AwsSolutions-SQS3',
      'kallisti-dev/Http: AwsSolutions-APIG2',
      'kallisti-dev/Http: AwsSolutions-APIG3',
      'kallisti-dev/Http: AwsSolutions-APIG4',
      'kallisti-dev/Http: AwsSolutions-COG4',
    ];
    const found = acknowledgments(defaults.app);
    // The permissions of AWS steps acknowledge one IAM5 finding per wildcard resource they declare (lib/chaos-policy.ts).
    const chaos = [...found.keys()].filter((k) => k.startsWith('kallisti-dev/WorkerChaos/'));
    expect(chaos).toContain('kallisti-dev/WorkerChaos/Policy: AwsSolutions-IAM5[Resource::*]');
    for (const k of chaos) expect(k).toMatch(/: AwsSolutions-IAM5\[Resource::/);
    expect([...found.keys()].filter((k) => !chaos.includes(k)).sort()).toEqual(expected.sort());
    for (const reason of found.values()) expect(reason.length).toBeGreaterThan(40);

    const extra = [...acknowledgments(full.app).keys()].filter(
      (k) =>
        !k.includes('index/*') &&
        !k.includes('schedule/kallisti-prod') &&
        !k.startsWith('kallisti-prod/WorkerChaos/') &&
        !expected.includes(k.replace('kallisti-prod', 'kallisti-dev').replace(/kallisti\/prod\//, 'kallisti/dev/')),
    );
    // The API's IAM5[Resource::*] (sns:Unsubscribe) is in every stack; tracing adds X-Ray's to the worker.
    expect(extra.sort()).toEqual(['kallisti-prod/Alarms/Topic: AwsSolutions-SNS2', 'kallisti-prod/WorkerFunction/Role: AwsSolutions-IAM5[Resource::*]']);
  });

  it('runs as a validation plugin in the app, so `cdk synth` and `cdk deploy` stop on a new finding', () => {
    // This app builds every function and validates its template as `cdk synth` does; the others below need neither.
    const app = new App({ context: { stage: 'ci', openAccess: 'true', egressAllow: 'api.example.com' } });
    const stack = addKallistiStack(app);
    expect(stack.stackName).toBe('kallisti-ci');
    expect(() => app.synth()).not.toThrow();

    // With the account and region of the deploying CLI set (as in CI), the template still names neither:
    // one synthesized template deploys to any account and region.
    const saved = { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] };
    try {
      process.env['CDK_DEFAULT_ACCOUNT'] = '123456789012';
      process.env['CDK_DEFAULT_REGION'] = 'eu-west-1';
      const located = testApp({ stage: 'prod', ...TEST_AUTH_CONTEXT });
      const stack = addKallistiStack(located);
      expect(Token.isUnresolved(stack.region)).toBe(true);
      expect(Token.isUnresolved(stack.account)).toBe(true);
      const template = JSON.stringify(located.synth().getStackByName(stack.stackName).template);
      expect(template).not.toContain('eu-west-1');
      expect(template).not.toContain('123456789012');
      expect(template).toContain('{"Ref":"AWS::Region"}');
    } finally {
      for (const [key, value] of [['CDK_DEFAULT_ACCOUNT', saved.account], ['CDK_DEFAULT_REGION', saved.region]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }

    // The same app with one non-compliant resource fails to synthesize.
    const failing = testApp(TEST_AUTH_CONTEXT);
    new sqs.Queue(addKallistiStack(failing), 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED, enforceSSL: true });
    expect(() => failing.synth()).toThrow(/AwsSolutions-SQS2/);
  });
});
