import { Match } from 'aws-cdk-lib/assertions';
import openapi from '../../openapi.json' with { type: 'json' };
import { tableDefinition, TTL_ATTRIBUTE } from '../../functions/adapters/dynamodb/table.js';
import { ANY_METHOD, operationKeys } from '../../lib/gateway-spec.js';
import { API_5XX_RATE_THRESHOLD } from '../../lib/alarms.js';
import { ACCESS_LOG_FORMAT } from '../../lib/http-api.js';
import { actions, getAtt, resource, resourceList, resources, roleStatements, synth, type StatementJson, type Synthesized } from './synth.js';

// Synthesize each configuration once for the whole file.
let defaults: Synthesized;
let full: Synthesized;

beforeAll(() => {
  defaults = synth();
  full = synth({
    stage: 'prod',
    tracing: 'true',
    alarmEmail: 'oncall@example.com',
    authJwksUri: 'https://id.example.com/.well-known/jwks.json',
    authIssuer: 'https://id.example.com/',
    authAudience: 'kallisti',
    authGroupsClaim: 'cognito:groups',
    authWriteGroups: 'chaos-engineers',
    logLevel: 'debug',
    logRetentionDays: '365',
    throttleRateLimit: '20',
    throttleBurstLimit: '40',
    gatewayBodyValidation: 'true',
    retain: 'false',
    secretPrefix: 'chaos/prod-creds/',
  });
});

const ids = (s: Synthesized) => ({
  table: resource(s.template, 'AWS::DynamoDB::Table', 'DataTable')[0],
  queue: resource(s.template, 'AWS::SQS::Queue', 'TrialsQueue')[0],
  dlq: resource(s.template, 'AWS::SQS::Queue', 'TrialsDeadLetterQueue')[0],
  scheduleDlq: resource(s.template, 'AWS::SQS::Queue', 'SchedulesDeadLetterQueue')[0],
  schedulerRole: resource(s.template, 'AWS::IAM::Role', 'SchedulesRole')[0],
  api: resource(s.template, 'AWS::Lambda::Function', 'ApiFunction')[0],
  apiRole: resource(s.template, 'AWS::IAM::Role', 'ApiFunctionRole')[0],
  worker: resource(s.template, 'AWS::Lambda::Function', 'WorkerFunction')[0],
  workerRole: resource(s.template, 'AWS::IAM::Role', 'WorkerFunctionRole')[0],
  restApi: resource(s.template, 'AWS::ApiGateway::RestApi', 'HttpApi')[0],
});

const props = (s: Synthesized, type: string, prefix: string) => resource(s.template, type, prefix)[1].Properties ?? {};

describe('KallistiStack', () => {
  describe('trial queue', () => {
    it('is FIFO with content-based deduplication, SSE-SQS and 14 days of retention', () => {
      const queue = props(defaults, 'AWS::SQS::Queue', 'TrialsQueue');
      expect(queue).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: true, SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    });

    it('has a visibility timeout just above the worker timeout (Lambda’s maximum), so a failed trial blocks the queue no longer than needed', () => {
      const worker = props(defaults, 'AWS::Lambda::Function', 'WorkerFunction');
      expect(worker['Timeout']).toBe(900);
      expect(props(defaults, 'AWS::SQS::Queue', 'TrialsQueue')['VisibilityTimeout']).toBe(900 + 60);
    });

    it('sends a message that failed 5 times to an encrypted FIFO dead-letter queue', () => {
      const { dlq } = ids(defaults);
      expect(props(defaults, 'AWS::SQS::Queue', 'TrialsQueue')['RedrivePolicy']).toEqual({ deadLetterTargetArn: getAtt(dlq), maxReceiveCount: 1000 });
      expect(props(defaults, 'AWS::SQS::Queue', 'TrialsDeadLetterQueue')).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    });

    it('refuses non-TLS access to every queue', () => {
      const { queue, dlq, scheduleDlq } = ids(defaults);
      for (const id of [queue, dlq, scheduleDlq]) {
        defaults.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: { AWS: '*' } }),
            ]),
          },
        });
      }
    });

    it('feeds the worker one message at a time with partial batch responses', () => {
      const { queue, worker } = ids(defaults);
      const mappings = resources(defaults.template, 'AWS::Lambda::EventSourceMapping');
      expect(mappings).toHaveLength(1);
      const mapping = mappings[0]?.[1].Properties ?? {};
      expect(mapping).toMatchObject({ BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'], EventSourceArn: getAtt(queue), FunctionName: { Ref: worker } });
      // One message group already serializes; maxConcurrency (minimum 2) must not loosen that.
      expect(mapping['ScalingConfig']).toBeUndefined();
    });
  });

  describe('table', () => {
    it('bills on demand with point-in-time recovery, deletion protection and RETAIN by default', () => {
      const [, table] = resource(defaults.template, 'AWS::DynamoDB::Table', 'DataTable');
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      });
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    });

    it('is deleted with the stack, without deletion protection, when retain=false', () => {
      const [, table] = resource(full.template, 'AWS::DynamoDB::Table', 'DataTable');
      expect(table.Properties?.['DeletionProtectionEnabled']).toBe(false);
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties?.['PointInTimeRecoverySpecification']).toEqual({ PointInTimeRecoveryEnabled: true });
    });

    it('has the keys, attributes and indexes of tableDefinition()', () => {
      const expected = tableDefinition('x');
      const table = props(defaults, 'AWS::DynamoDB::Table', 'DataTable');
      const byName = <T extends { AttributeName?: string; IndexName?: string }>(list: T[]) =>
        [...list].sort((a, b) => String(a.AttributeName ?? a.IndexName).localeCompare(String(b.AttributeName ?? b.IndexName)));
      const projection = (p: { ProjectionType?: string; NonKeyAttributes?: string[] } | undefined) => ({
        ProjectionType: p?.ProjectionType,
        ...(p?.NonKeyAttributes && { NonKeyAttributes: [...p.NonKeyAttributes].sort() }),
      });
      type Gsi = { IndexName?: string; KeySchema?: unknown; Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] } };
      const gsis = (list: Gsi[]) => byName(list).map((g) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: projection(g.Projection) }));

      expect(table['KeySchema']).toEqual(expected.KeySchema);
      expect(byName(table['AttributeDefinitions'] as { AttributeName: string }[])).toEqual(byName(expected.AttributeDefinitions ?? []));
      expect(gsis(table['GlobalSecondaryIndexes'] as Gsi[])).toEqual(gsis(expected.GlobalSecondaryIndexes ?? []));
      expect(gsis(expected.GlobalSecondaryIndexes ?? [])).toHaveLength(4);
    });

    it('lets firing records expire through the TTL attribute the store writes', () => {
      expect(props(defaults, 'AWS::DynamoDB::Table', 'DataTable')['TimeToLiveSpecification']).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
    });
  });

  describe('functions', () => {
    it.each([
      ['ApiFunction', 29, 512],
      ['WorkerFunction', 900, 1024],
    ])('%s runs Node.js 22 on arm64 with %i s and %i MB, JSON logs and source maps', (prefix, timeout, memory) => {
      const [logGroup] = resource(defaults.template, 'AWS::Logs::LogGroup', `${prefix}Logs`);
      expect(props(defaults, 'AWS::Lambda::Function', prefix)).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Timeout: timeout,
        MemorySize: memory,
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', LogGroup: { Ref: logGroup } },
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps', LOG_LEVEL: 'INFO' }) },
      });
      expect(props(defaults, 'AWS::Lambda::Function', prefix)['TracingConfig']).toBeUndefined();
      expect(props(defaults, 'AWS::Logs::LogGroup', `${prefix}Logs`)).toMatchObject({ RetentionInDays: 30 });
      expect(props(full, 'AWS::Lambda::Function', prefix)).toMatchObject({
        LoggingConfig: { ApplicationLogLevel: 'DEBUG' },
        TracingConfig: { Mode: 'Active' },
        Environment: { Variables: expect.objectContaining({ LOG_LEVEL: 'DEBUG' }) },
      });
      expect(props(full, 'AWS::Logs::LogGroup', `${prefix}Logs`)).toMatchObject({ RetentionInDays: 365 });
    });

    it('keeps log groups on delete by default and removes them when retain=false', () => {
      for (const [, group] of resources(defaults.template, 'AWS::Logs::LogGroup')) expect(group.DeletionPolicy).toBe('Retain');
      for (const [, group] of resources(full.template, 'AWS::Logs::LogGroup')) expect(group.DeletionPolicy).toBe('Delete');
    });

    it('reserves no concurrency (the one message group serialises the worker; a reservation fails at the default account quota)', () => {
      expect(props(defaults, 'AWS::Lambda::Function', 'WorkerFunction')['ReservedConcurrentExecutions']).toBeUndefined();
      expect(props(defaults, 'AWS::Lambda::Function', 'ApiFunction')['ReservedConcurrentExecutions']).toBeUndefined();
    });

    it('gives the API function the table, queue and scheduler settings, and the auth settings given', () => {
      const { table, queue, scheduleDlq, schedulerRole } = ids(defaults);
      const env = (props(defaults, 'AWS::Lambda::Function', 'ApiFunction')['Environment'] as { Variables: Record<string, unknown> }).Variables;
      expect(env).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        LOG_LEVEL: 'INFO',
        KALLISTI_TABLE: { Ref: table },
        KALLISTI_QUEUE_URL: { Ref: queue },
        KALLISTI_SCHEDULE_GROUP: 'kallisti-dev',
        KALLISTI_SCHEDULER_ROLE_ARN: getAtt(schedulerRole),
        KALLISTI_SCHEDULE_TARGET_ARN: getAtt(queue),
        KALLISTI_SCHEDULE_DLQ_ARN: getAtt(scheduleDlq),
        KALLISTI_EVENT_BUS_NAME: 'default',
        KALLISTI_NOTIFICATION_TOPIC_ARN: { Ref: resource(defaults.template, 'AWS::SNS::Topic', 'TrialFinishedTopic')[0] },
        POWERTOOLS_SERVICE_NAME: 'kallisti-dev',
        POWERTOOLS_METRICS_NAMESPACE: 'Kallisti',
        KALLISTI_AWS_MODULES: 'on',
        KALLISTI_AWS_ROLE_ARNS: '',
        KALLISTI_AUTH_JWKS_URI: 'https://id.example.com/.well-known/jwks.json',
        KALLISTI_AUTH_JWT_ISSUER: 'https://id.example.com/',
        KALLISTI_AUTH_JWT_AUDIENCE: 'kallisti',
      });
    });

    it('passes the JWT settings from context to the API function', () => {
      const env = (props(full, 'AWS::Lambda::Function', 'ApiFunction')['Environment'] as { Variables: Record<string, unknown> }).Variables;
      expect(env).toMatchObject({
        KALLISTI_AUTH_JWKS_URI: 'https://id.example.com/.well-known/jwks.json',
        KALLISTI_AUTH_JWT_ISSUER: 'https://id.example.com/',
        KALLISTI_AUTH_JWT_AUDIENCE: 'kallisti',
        KALLISTI_AUTH_GROUPS_CLAIM: 'cognito:groups',
        KALLISTI_AUTH_WRITE_GROUPS: 'chaos-engineers',
        KALLISTI_SCHEDULE_GROUP: 'kallisti-prod',
      });
    });

    it('gives the worker the table, what it needs to re-arm a schedule and the settings of AWS steps, and the queue URL it hands messages back with', () => {
      const { table, queue, scheduleDlq, schedulerRole } = ids(defaults);
      const env = (props(defaults, 'AWS::Lambda::Function', 'WorkerFunction')['Environment'] as { Variables: Record<string, unknown> }).Variables;
      expect(env).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        LOG_LEVEL: 'INFO',
        KALLISTI_TABLE: { Ref: table },
        KALLISTI_SCHEDULE_GROUP: 'kallisti-dev',
        KALLISTI_EVENT_BUS_NAME: 'default',
        KALLISTI_SECRET_PREFIX: 'kallisti/dev/',
        POWERTOOLS_SERVICE_NAME: 'kallisti-dev',
        POWERTOOLS_METRICS_NAMESPACE: 'Kallisti',
        KALLISTI_AWS_MODULES: 'on',
        KALLISTI_CHAOS_TAG: 'chaos-allowed=true',
        KALLISTI_AWS_ROLE_ARNS: '',
        KALLISTI_SCHEDULER_ROLE_ARN: getAtt(schedulerRole),
        KALLISTI_SCHEDULE_TARGET_ARN: getAtt(queue),
        KALLISTI_SCHEDULE_DLQ_ARN: getAtt(scheduleDlq),
        KALLISTI_QUEUE_URL: { Ref: queue },
      });
    });
  });

  describe('trial-finished notifications', () => {
    it('have an SNS topic per stage that refuses non-TLS publishing', () => {
      const [topic, definition] = resource(defaults.template, 'AWS::SNS::Topic', 'TrialFinishedTopic');
      expect(definition.Properties).toMatchObject({ TopicName: 'kallisti-dev-trial-finished' });
      defaults.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: topic }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    });

    it('route "Trial Finished" events from source "kallisti" of this account on the default bus to the topic, and let only that rule publish', () => {
      const [topic] = resource(defaults.template, 'AWS::SNS::Topic', 'TrialFinishedTopic');
      const [rule, definition] = resource(defaults.template, 'AWS::Events::Rule', 'TrialFinishedRule');
      expect(definition.Properties?.['EventBusName']).toBe('default');
      expect(definition.Properties?.['EventPattern']).toEqual({ source: ['kallisti'], 'detail-type': ['Trial Finished'], account: [{ Ref: 'AWS::AccountId' }] });
      const targets = definition.Properties?.['Targets'] as { Arn: unknown; InputTransformer?: unknown }[];
      expect(targets).toHaveLength(1);
      expect(targets[0]?.Arn).toEqual({ Ref: topic });
      expect(targets[0]?.InputTransformer).toBeDefined();
      defaults.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: topic }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } })]) },
      });
      expect(rule).toBeDefined();
    });
  });

  describe('IAM', () => {
    // The permissions of AWS steps are generated and tested on their own (test/cdk/chaos-policy.test.ts).
    const allStatements = (s: Synthesized): StatementJson[] => [
      ...resources(s.template, 'AWS::IAM::Policy').filter(([id]) => !id.startsWith('WorkerChaos')).flatMap(([, p]) => (p.Properties?.['PolicyDocument'] as { Statement: StatementJson[] }).Statement),
      ...resources(s.template, 'AWS::IAM::Role').flatMap(([, r]) =>
        ((r.Properties?.['Policies'] ?? []) as { PolicyDocument: { Statement: StatementJson[] } }[]).flatMap((p) => p.PolicyDocument.Statement),
      ),
    ];
    const XRAY = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];

    it('uses Resource "*" only for X-Ray, scheduler:ListSchedules and sns:Unsubscribe, whose actions have no resource-level permissions', () => {
      for (const s of [defaults, full]) {
        const wildcard = allStatements(s).filter((st) => resourceList(st).includes('*'));
        const listing = wildcard.filter((st) => actions(st).includes('scheduler:ListSchedules'));
        expect(listing).toEqual([{ Effect: 'Allow', Action: 'scheduler:ListSchedules', Resource: '*' }]);
        const unsubscribe = wildcard.filter((st) => actions(st).includes('sns:Unsubscribe'));
        // Unsubscribe names a subscription ARN, not the topic; only the API has it, alone in its statement.
        expect(unsubscribe).toEqual([{ Effect: 'Allow', Action: 'sns:Unsubscribe', Resource: '*' }]);
        expect(roleStatements(s.template, ids(s).apiRole)).toContainEqual(unsubscribe[0]);
        const rest = wildcard.filter((w) => !listing.includes(w) && !unsubscribe.includes(w));
        for (const st of rest) expect(XRAY).toEqual(expect.arrayContaining(actions(st)));
        expect(rest.length > 0).toBe(s === full);
      }
    });

    it('lets the API and the worker put trial-finished events on the default bus only, and the API alone manage the topic\u2019s subscriptions', () => {
      const { apiRole, workerRole } = ids(defaults);
      const [topic] = resource(defaults.template, 'AWS::SNS::Topic', 'TrialFinishedTopic');
      const defaultBus = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default']] };
      const events = (role: string) => roleStatements(defaults.template, role).filter((st) => actions(st).some((a) => a.startsWith('events:')));
      const sns = (role: string) => roleStatements(defaults.template, role).filter((st) => actions(st).some((a) => a.startsWith('sns:')));
      expect(events(workerRole)).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: defaultBus }]);
      expect(sns(workerRole)).toEqual([]);
      // The API ends trials too (a stop before they ran), and tells the same bus.
      expect(events(apiRole)).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: defaultBus }]);
      expect(sns(apiRole)).toEqual([
        { Effect: 'Allow', Action: ['sns:ListSubscriptionsByTopic', 'sns:Subscribe'], Resource: { Ref: topic } },
        { Effect: 'Allow', Action: 'sns:Unsubscribe', Resource: '*' },
      ]);
    });

    it.each([
      ['API', 'apiRole', 'api'],
      ['worker', 'workerRole', 'worker'],
    ] as const)('grants the %s exactly these actions (AWS steps\u2019 own permissions aside): a new one must be added here on purpose', (_name, role, expected) => {
      const granted = [...new Set(roleStatements(defaults.template, ids(defaults)[role]).flatMap(actions))].filter((a) => !AWS_STEP_ACTION.test(a)).sort();
      expect(granted).toEqual(EXPECTED_ACTIONS[expected]);
    });

    it('lets the worker alone read step-credential secrets and parameters, under the stage\u2019s prefix only, and tells it the prefix', () => {
      const { apiRole, workerRole } = ids(defaults);
      const arn = (service: string, resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, resource]] });
      const reads = (role: string, s: Synthesized = defaults) => roleStatements(s.template, role).filter((st) => actions(st).some((a) => a === 'secretsmanager:GetSecretValue' || a === 'ssm:GetParameter'));
      expect(reads(workerRole)).toEqual([
        { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: arn('secretsmanager', ':secret:kallisti/dev/*') },
        { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: arn('ssm', ':parameter/kallisti/dev/*') },
      ]);
      expect(reads(apiRole)).toEqual([]);
      expect(allStatements(defaults).flatMap(actions).filter((a) => a.startsWith('secretsmanager:') || a === 'ssm:GetParameters' || a === 'ssm:GetParametersByPath')).toEqual(['secretsmanager:GetSecretValue']);
      const env = (props(defaults, 'AWS::Lambda::Function', 'WorkerFunction')['Environment'] as { Variables: Record<string, unknown> }).Variables;
      expect(env['KALLISTI_SECRET_PREFIX']).toBe('kallisti/dev/');
      // The full stack chooses its own prefix (context secretPrefix).
      expect(JSON.stringify(reads(ids(full).workerRole, full))).toContain(':secret:chaos/prod-creds/*');
      expect(JSON.stringify(reads(ids(full).workerRole, full))).toContain(':parameter/chaos/prod-creds/*');
    });

    it('attaches no managed policy to the function roles (logs go to their own log group only)', () => {
      const { apiRole, workerRole } = ids(defaults);
      for (const role of [apiRole, workerRole]) {
        expect(props(defaults, 'AWS::IAM::Role', role)['ManagedPolicyArns']).toBeUndefined();
        const logs = roleStatements(defaults.template, role).filter((st) => actions(st).some((a) => a.startsWith('logs:')));
        expect(logs).toHaveLength(1);
        expect(logs[0]?.Resource).toEqual(getAtt(resource(defaults.template, 'AWS::Logs::LogGroup', role.replace(/Role.*$/, 'Logs'))[0]));
      }
    });

    it('grants each function the DynamoDB actions its code sends, on the table and its indexes (both query them)', () => {
      const { table, apiRole, workerRole } = ids(defaults);
      const dynamoOf = (role: string) => roleStatements(defaults.template, role).filter((st) => actions(st).some((a) => a.startsWith('dynamodb:')));
      const api = dynamoOf(apiRole);
      expect(api).toHaveLength(1);
      expect(actions(api[0] as StatementJson).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
      expect(resourceList(api[0] as StatementJson)).toEqual([getAtt(table), { 'Fn::Join': ['', [getAtt(table), '/index/*']] }]);
      const worker = dynamoOf(workerRole);
      expect(worker).toHaveLength(1);
      expect(actions(worker[0] as StatementJson).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
      expect(resourceList(worker[0] as StatementJson)).toEqual([getAtt(table), { 'Fn::Join': ['', [getAtt(table), '/index/*']] }]);
      expect(actions(worker[0] as StatementJson)).not.toContain('dynamodb:BatchGetItem');
      const granted = [...api, ...worker].flatMap(actions);
      for (const unused of ['dynamodb:Scan', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable']) expect(granted).not.toContain(unused);
    });

    const schedulesArn = (stage: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:schedule/kallisti-${stage}/*`]] });

    it('lets the API send to the FIFO queue (and wake a parked message) and manage schedules of its group only, passing the scheduler role to Scheduler only', () => {
      const { apiRole, queue, schedulerRole } = ids(defaults);
      const statements = roleStatements(defaults.template, apiRole);
      const sqs = statements.filter((st) => actions(st).some((a) => a.startsWith('sqs:')));
      expect(sqs.every((st) => JSON.stringify(st.Resource) === JSON.stringify(getAtt(queue)))).toBe(true);
      expect(sqs.flatMap((st) => actions(st)).filter((a) => !a.startsWith('sqs:SendMessage') && a !== 'sqs:GetQueueAttributes' && a !== 'sqs:GetQueueUrl')).toEqual(['sqs:ChangeMessageVisibility']);
      expect(sqs.flatMap((st) => actions(st))).toContain('sqs:SendMessage');

      const scheduler = statements.filter((st) => actions(st).some((a) => a.startsWith('scheduler:')));
      expect(scheduler).toHaveLength(1);
      expect(actions(scheduler[0] as StatementJson).sort()).toEqual(['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']);
      expect(scheduler[0]?.Resource).toEqual(schedulesArn('dev'));

      const passRole = statements.filter((st) => actions(st).includes('iam:PassRole'));
      expect(passRole).toEqual([
        { Effect: 'Allow', Action: 'iam:PassRole', Resource: getAtt(schedulerRole), Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } } },
      ]);
    });

    it('lets the worker consume the queue and create and delete schedules of its group, and nothing more', () => {
      const { workerRole, queue, schedulerRole } = ids(defaults);
      const statements = roleStatements(defaults.template, workerRole);
      const sqs = statements.filter((st) => actions(st).some((a) => a.startsWith('sqs:')));
      expect(sqs).toHaveLength(1);
      expect(sqs[0]?.Resource).toEqual(getAtt(queue));
      expect(actions(sqs[0] as StatementJson)).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']));
      expect(actions(sqs[0] as StatementJson)).not.toContain('sqs:SendMessage');

      const scheduler = statements.filter((st) => actions(st).some((a) => a.startsWith('scheduler:')));
      expect(scheduler).toEqual([{ Effect: 'Allow', Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'], Resource: schedulesArn('dev') }]);
      expect(statements.filter((st) => actions(st).includes('iam:PassRole'))).toEqual([
        { Effect: 'Allow', Action: 'iam:PassRole', Resource: getAtt(schedulerRole), Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } } },
      ]);
    });

    it('has the scheduler role trusted by EventBridge Scheduler for this account’s group, sending only to the queue and its DLQ', () => {
      const { schedulerRole, queue, scheduleDlq } = ids(defaults);
      expect(props(defaults, 'AWS::IAM::Role', schedulerRole)['AssumeRolePolicyDocument']).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: {
                'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':schedule-group/kallisti-dev']] },
              },
            },
          },
        ],
      });
      expect(props(defaults, 'AWS::IAM::Role', schedulerRole)['ManagedPolicyArns']).toBeUndefined();
      expect(roleStatements(defaults.template, schedulerRole)).toEqual([{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: [getAtt(queue), getAtt(scheduleDlq)] }]);
    });
  });

  describe('EventBridge Scheduler', () => {
    it('creates the schedule group kallisti-<stage> and a standard, encrypted dead-letter queue', () => {
      defaults.template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'kallisti-dev' });
      full.template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'kallisti-prod' });
      const dlq = props(defaults, 'AWS::SQS::Queue', 'SchedulesDeadLetterQueue');
      expect(dlq['FifoQueue']).toBeUndefined();
      expect(dlq).toMatchObject({ SqsManagedSseEnabled: true });
    });
  });

  describe('REST API', () => {
    type Body = { paths: Record<string, Record<string, { 'x-amazon-apigateway-integration'?: Record<string, unknown>; security?: unknown }>> } & Record<string, unknown>;
    const body = (s: Synthesized) => props(s, 'AWS::ApiGateway::RestApi', 'HttpApi')['Body'] as Body;

    it('routes every openapi.json operation, plus ANY per path for 405 answers, to the API function', () => {
      const synthesized = body(defaults);
      const fromSpec = operationKeys(openapi as Record<string, unknown>);
      // Every operation also under Kallisti's /api/v1 prefix, as the Lambda routes it.
      const underPrefix = fromSpec.map((key) => key.replace(' ', ' /api/v1'));
      const paths = Object.keys(openapi.paths);
      const anyPerPath = [...paths, ...paths.map((path) => `/api/v1${path}`)].map((path) => `ANY ${path}`);
      expect(operationKeys(synthesized)).toEqual([...fromSpec, ...underPrefix, ...anyPerPath].sort());

      const { api } = ids(defaults);
      const uri = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:', { Ref: 'AWS::Region' }, ':lambda:path/2015-03-31/functions/', getAtt(api), '/invocations']] };
      for (const [path, item] of Object.entries(synthesized.paths)) {
        for (const [method, operation] of Object.entries(item)) {
          if (method === 'parameters') continue;
          expect([path, method, operation['x-amazon-apigateway-integration']]).toEqual([path, method, { type: 'aws_proxy', httpMethod: 'POST', uri, passthroughBehavior: 'when_no_match' }]);
          expect(operation.security).toBeUndefined();
        }
        expect(item[ANY_METHOD]).toBeDefined();
      }
    });

    it('validates parameters at the gateway by default (bodies in the function, with field errors), bodies too when gatewayBodyValidation=true', () => {
      const validators = {
        all: { validateRequestBody: true, validateRequestParameters: true },
        params: { validateRequestBody: false, validateRequestParameters: true },
      };
      expect(body(defaults)).toMatchObject({ 'x-amazon-apigateway-request-validators': validators, 'x-amazon-apigateway-request-validator': 'params' });
      expect(body(full)).toMatchObject({ 'x-amazon-apigateway-request-validators': validators, 'x-amazon-apigateway-request-validator': 'all' });
    });

    it('answers gateway errors in the API’s { "message": … } shape', () => {
      const responses = body(defaults)['x-amazon-apigateway-gateway-responses'] as Record<string, { statusCode?: string; responseTemplates: Record<string, string> }>;
      for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) expect(responses[type]?.responseTemplates['application/json']).toBe('{"message":$context.error.messageString}');
      // Every template is JSON once API Gateway substitutes its (already quoted) variables.
      for (const response of Object.values(responses)) {
        expect(JSON.parse(response.responseTemplates['application/json']?.replace('$context.error.messageString', '"x"') ?? '')).toHaveProperty('message');
      }
      expect(responses['MISSING_AUTHENTICATION_TOKEN']?.statusCode).toBe('404');
    });

    it('is a regional API whose stage is named after the stage, throttled and access-logged as JSON', () => {
      const [accessLogs] = resource(defaults.template, 'AWS::Logs::LogGroup', 'HttpAccessLogs');
      expect(props(defaults, 'AWS::ApiGateway::RestApi', 'HttpApi')['EndpointConfiguration']).toEqual({ Types: ['REGIONAL'] });
      expect(props(defaults, 'AWS::ApiGateway::Stage', 'HttpApiDeploymentStage')).toMatchObject({
        StageName: 'dev',
        TracingEnabled: false,
        AccessLogSetting: { DestinationArn: getAtt(accessLogs), Format: ACCESS_LOG_FORMAT },
        MethodSettings: [{ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, LoggingLevel: 'ERROR', DataTraceEnabled: false }],
      });
      expect(props(full, 'AWS::ApiGateway::Stage', 'HttpApiDeploymentStage')).toMatchObject({
        StageName: 'prod',
        TracingEnabled: true,
        MethodSettings: [expect.objectContaining({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 })],
      });
      const line = JSON.parse(ACCESS_LOG_FORMAT) as Record<string, string>;
      expect(line).toMatchObject({ requestId: '$context.requestId', status: '$context.status', resourcePath: '$context.resourcePath' });
      expect(props(defaults, 'AWS::Logs::LogGroup', 'HttpAccessLogs')).toMatchObject({ RetentionInDays: 30 });
    });

    it('lets only this API’s stage invoke the API function', () => {
      const { api, restApi } = ids(defaults);
      const permissions = resources(defaults.template, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties?.['Principal'] === 'apigateway.amazonaws.com');
      expect(permissions).toHaveLength(1);
      expect(permissions[0]?.[1].Properties).toEqual({
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt(api),
        Principal: 'apigateway.amazonaws.com',
        SourceArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':execute-api:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':', { Ref: restApi }, '/dev/*/*']] },
      });
    });
  });

  describe('alarms', () => {
    const alarms = (s: Synthesized) => Object.fromEntries(resources(s.template, 'AWS::CloudWatch::Alarm').map(([, a]) => [a.Properties?.['AlarmName'] as string, a.Properties ?? {}]));

    it('alarm on either dead-letter queue, worker errors and throttles, and a 5XX rate above 1 %', () => {
      const { dlq, scheduleDlq, worker } = ids(defaults);
      const all = alarms(defaults);
      expect(Object.keys(all).sort()).toEqual([
        'kallisti-dev-api-5xx',
        'kallisti-dev-firing-lag',
        'kallisti-dev-message-failures',
        'kallisti-dev-overdue-trials',
        'kallisti-dev-queue-age',
        'kallisti-dev-reconciler-errors',
        'kallisti-dev-schedule-dlq',
        'kallisti-dev-schedule-drift',
        'kallisti-dev-trial-dlq',
        'kallisti-dev-watchdog-errors',
        'kallisti-dev-worker-errors',
        'kallisti-dev-worker-throttles',
      ]);
      const atLeastOne = { Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' };
      expect(all['kallisti-dev-trial-dlq']).toMatchObject({ ...atLeastOne, Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: getAtt(dlq, 'QueueName') }] });
      expect(all['kallisti-dev-schedule-dlq']).toMatchObject({ ...atLeastOne, MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: getAtt(scheduleDlq, 'QueueName') }] });
      expect(all['kallisti-dev-worker-errors']).toMatchObject({ ...atLeastOne, Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum', Dimensions: [{ Name: 'FunctionName', Value: { Ref: worker } }] });
      expect(all['kallisti-dev-worker-throttles']).toMatchObject({ ...atLeastOne, MetricName: 'Throttles', Statistic: 'Sum' });
      expect(all['kallisti-dev-api-5xx']).toMatchObject({
        Namespace: 'AWS/ApiGateway',
        MetricName: '5XXError',
        Statistic: 'Average',
        Period: 300,
        Threshold: API_5XX_RATE_THRESHOLD,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [{ Name: 'ApiName', Value: 'kallisti-dev' }],
      });
      expect(API_5XX_RATE_THRESHOLD).toBe(0.01);
    });

    it('notify nobody without alarmEmail', () => {
      expect(resources(defaults.template, 'AWS::SNS::Topic').filter(([id]) => id.startsWith('Alarms'))).toEqual([]);
      for (const alarm of Object.values(alarms(defaults))) expect(alarm['AlarmActions']).toBeUndefined();
    });

    it('notify alarmEmail through an SNS topic, on alarm and on recovery', () => {
      const [topic] = resource(full.template, 'AWS::SNS::Topic', 'AlarmsTopic');
      full.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: topic } });
      const all = alarms(full);
      expect(Object.keys(all)).toHaveLength(12);
      for (const alarm of Object.values(all)) {
        expect(alarm['AlarmActions']).toEqual([{ Ref: topic }]);
        expect(alarm['OKActions']).toEqual([{ Ref: topic }]);
      }
    });
  });

  it('outputs the API and docs URLs, the table, the queue and the schedule group', () => {
    const outputs = defaults.template.toJSON()['Outputs'] as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'DocsUrl', 'TableName', 'QueueUrl', 'ScheduleGroupName']));
    const { table, queue } = ids(defaults);
    expect(outputs['TableName']?.Value).toEqual({ Ref: table });
    expect(outputs['QueueUrl']?.Value).toEqual({ Ref: queue });
    expect(outputs['ScheduleGroupName']?.Value).toBe('kallisti-dev');
    expect(JSON.stringify(outputs['DocsUrl']?.Value)).toMatch(/\/docs"\]\]\}$/);
  });

  it('is named after its stage', () => {
    expect(defaults.stack.stackName).toBe('kallisti-dev');
    expect(full.stack.stackName).toBe('kallisti-prod');
  });
});

/** Actions of the AWS step commands (lib/chaos-policy.ts, tested in chaos-policy.test.ts), left out of the list below. */
const AWS_STEP_ACTION = /^(fis|ec2|ecs|lambda|rds|autoscaling|ssm|cloudwatch|tag):/;
/** Actions both functions are granted; each one's own follow. */
const BOTH = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
  'events:PutEvents',
  'iam:PassRole',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'scheduler:CreateSchedule',
  'scheduler:DeleteSchedule',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueAttributes',
  'sqs:GetQueueUrl',
];
const EXPECTED_ACTIONS = {
  api: [...BOTH, 'dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'sns:ListSubscriptionsByTopic', 'sns:Subscribe', 'sns:Unsubscribe', 'sqs:SendMessage'].sort(),
  worker: [...BOTH, 'secretsmanager:GetSecretValue', 'sqs:DeleteMessage', 'sqs:ReceiveMessage'].sort(),
};
