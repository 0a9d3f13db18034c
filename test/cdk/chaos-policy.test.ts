import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AWS_MODULES } from '../../functions/modules/aws/index.js';
import { ChaosPolicy } from '../../lib/chaos-policy.js';
import { readSettings } from '../../lib/settings.js';
import { actions, resource, resourceList, resources, roleStatements, synth, TEST_AUTH_CONTEXT, testApp, type StatementJson, type Synthesized } from './synth.js';

const ROLE_A = 'arn:aws:iam::111111111111:role/chaos-target';
const ROLE_B = 'arn:aws:iam::222222222222:role/chaos-target';
const AWS_SERVICES = /^(ec2|ecs|lambda|rds|autoscaling|ssm|fis|cloudwatch|sts):/;

const declared = (tagged: boolean) => new Set(AWS_MODULES.flatMap((m) => (m.iam ?? []).filter((g) => (g.tagged === true) === tagged).flatMap((g) => g.actions)));
const chaosStatements = (s: Synthesized): StatementJson[] =>
  resources(s.template, 'AWS::IAM::Policy')
    .filter(([id]) => id.startsWith('WorkerChaos'))
    .flatMap(([, p]) => (p.Properties?.['PolicyDocument'] as { Statement: StatementJson[] }).Statement);
const env = (s: Synthesized, fn: string) => (resource(s.template, 'AWS::Lambda::Function', fn)[1].Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;

let defaults: Synthesized;
let off: Synthesized;

beforeAll(() => {
  defaults = synth({ assumeRoleArns: `${ROLE_A}, ${ROLE_B}` });
  off = synth({ awsModules: 'false', assumeRoleArns: ROLE_A });
});

describe('the worker policy generated from the AWS step commands', () => {
  it('grants exactly the declared actions, to the worker only', () => {
    const statements = chaosStatements(defaults);
    const granted = new Set(statements.flatMap(actions));
    expect([...granted].sort()).toEqual([...new Set([...declared(true), ...declared(false), 'sts:AssumeRole'])].sort());
    const worker = resource(defaults.template, 'AWS::IAM::Role', 'WorkerFunctionRole')[0];
    const api = resource(defaults.template, 'AWS::IAM::Role', 'ApiFunctionRole')[0];
    expect(roleStatements(defaults.template, worker)).toEqual(expect.arrayContaining(statements));
    expect(roleStatements(defaults.template, api).flatMap(actions).filter((a) => AWS_SERVICES.test(a))).toEqual([]);
  });

  it('never grants a wildcard action', () => {
    for (const action of chaosStatements(defaults).flatMap(actions)) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
  });

  it('puts the chaos tag condition on every destructive grant, and gives Resource "*" to read actions only', () => {
    const statements = chaosStatements(defaults);
    const tagged = statements.filter((st) => st.Condition !== undefined);
    // Every action some command declares as destructive appears in a tag-conditioned statement…
    for (const action of declared(true)) expect(tagged.some((st) => actions(st).includes(action))).toBe(true);
    for (const st of tagged) {
      expect(st.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/chaos-allowed': 'true' } });
      expect(resourceList(st)).not.toContain('*');
    }
    // …and an action that is only ever destructive is never granted without the condition.
    const onlyDestructive = [...declared(true)].filter((a) => !declared(false).has(a));
    for (const st of statements.filter((s) => s.Condition === undefined)) {
      for (const action of actions(st)) expect(onlyDestructive).not.toContain(action);
    }
    expect(onlyDestructive).toEqual(expect.arrayContaining(['ec2:StopInstances', 'ec2:TerminateInstances', 'lambda:PutFunctionConcurrency', 'rds:RebootDBInstance', 'ecs:StopTask', 'autoscaling:SuspendProcesses']));
    // FIS: starting needs a tagged template; the experiment it creates is new, so it cannot carry the tag yet.
    const fisStart = statements.filter((st) => actions(st).includes('fis:StartExperiment'));
    expect(fisStart.find((st) => st.Condition)?.Resource).toEqual(expect.objectContaining({ 'Fn::Join': ['', expect.arrayContaining([expect.stringContaining(':experiment-template/*')])] }));
    for (const st of statements.filter((s) => resourceList(s).includes('*'))) {
      expect(st.Condition).toBeUndefined();
      // Read actions, and ssm:CancelCommand (cancels the step's own command), have no resource-level permissions.
      for (const a of actions(st)) expect(a).toMatch(/:(Describe|List|Get)[A-Za-z]+$|^ssm:CancelCommand$/);
    }
  });

  it('lets the worker follow and undo what its waiting steps started: FIS experiments and SSM commands', () => {
    const statements = chaosStatements(defaults);
    const onExperiments = statements.filter((st) => JSON.stringify(st.Resource).includes(':experiment/*'));
    const fisActions = onExperiments.flatMap(actions);
    for (const action of ['fis:GetExperiment', 'fis:StopExperiment', 'fis:TagResource']) expect(fisActions).toContain(action);
    for (const st of onExperiments) expect(st.Condition).toBeUndefined();
    const ssmFollow = statements.filter((st) => actions(st).includes('ssm:CancelCommand'));
    expect(ssmFollow).toHaveLength(1);
    expect(actions(ssmFollow[0] as StatementJson)).toEqual(expect.arrayContaining(['ssm:CancelCommand', 'ssm:ListCommandInvocations', 'ssm:ListCommands']));
    expect(ssmFollow[0]?.Condition).toBeUndefined();
  });

  it('lets the worker assume exactly the configured roles, and tells both functions which they are', () => {
    const assume = chaosStatements(defaults).filter((st) => actions(st).includes('sts:AssumeRole'));
    expect(assume).toEqual([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: [ROLE_A, ROLE_B] }]);
    expect(env(defaults, 'WorkerFunction')['KALLISTI_AWS_ROLE_ARNS']).toBe(`${ROLE_A},${ROLE_B}`);
    expect(env(defaults, 'ApiFunction')['KALLISTI_AWS_ROLE_ARNS']).toBe(`${ROLE_A},${ROLE_B}`);
  });

  it('grants no AWS permission at all when awsModules=false, and tells both functions the namespace is off', () => {
    expect(chaosStatements(off)).toEqual([]);
    const all = resources(off.template, 'AWS::IAM::Policy').flatMap(([, p]) => (p.Properties?.['PolicyDocument'] as { Statement: StatementJson[] }).Statement);
    // ssm:GetParameter under the secret prefix is for step credentials, whatever the namespace (stack.test.ts).
    expect(all.flatMap(actions).filter((a) => AWS_SERVICES.test(a) && a !== 'ssm:GetParameter')).toEqual([]);
    expect(env(off, 'WorkerFunction')['KALLISTI_AWS_MODULES']).toBe('off');
    expect(env(off, 'ApiFunction')['KALLISTI_AWS_MODULES']).toBe('off');
    expect(env(off, 'WorkerFunction')['KALLISTI_AWS_ROLE_ARNS']).toBeUndefined();
  });
});

describe('ChaosPolicy with another tag, or none', () => {
  const policyOf = (tag: { key: string; value: string } | undefined): StatementJson[] => {
    const stack = new Stack(testApp(), 'Policy');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    new ChaosPolicy(stack, 'Chaos', { role, modules: AWS_MODULES, tag, assumeRoleArns: [] });
    return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: StatementJson[] } } }).Properties.PolicyDocument.Statement);
  };

  it('uses the configured tag', () => {
    const conditions = policyOf({ key: 'team', value: 'chaos' }).flatMap((st) => (st.Condition ? [st.Condition] : []));
    expect(conditions.length).toBeGreaterThan(0);
    for (const c of conditions) expect(c).toEqual({ StringEquals: { 'aws:ResourceTag/team': 'chaos' } });
  });

  it('drops the condition with chaosResourceTag=none (the documented way to widen it)', () => {
    expect(policyOf(undefined).filter((st) => st.Condition)).toEqual([]);
    expect(readSettings((key) => ({ ...TEST_AUTH_CONTEXT, chaosResourceTag: 'none' })[key]).chaosResourceTag).toBeUndefined();
  });

  it('refuses a module that declares a wildcard action', () => {
    const stack = new Stack(testApp(), 'Bad');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const bad = { name: 'aws.x.y', description: '', whereSchema: {}, iam: [{ actions: ['ec2:*'] }], run: async () => null };
    expect(() => new ChaosPolicy(stack, 'Chaos', { role, modules: [bad], tag: undefined, assumeRoleArns: [] })).toThrow('only exact actions');
  });

  it('refuses malformed context values', () => {
    expect(() => readSettings((key) => (key === 'chaosResourceTag' ? 'justakey' : TEST_AUTH_CONTEXT[key]))).toThrow('Context chaosResourceTag must be key=value');
    expect(() => readSettings((key) => (key === 'assumeRoleArns' ? 'arn:aws:iam::111111111111:role/*' : TEST_AUTH_CONTEXT[key]))).toThrow('Context assumeRoleArns must list IAM role ARNs');
  });
});
