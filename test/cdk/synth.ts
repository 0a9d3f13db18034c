import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { KallistiStack } from '../../lib/kallisti-stack.js';
import { readSettings, stackName, type KallistiSettings } from '../../lib/settings.js';

export interface Synthesized {
  app: App;
  stack: KallistiStack;
  settings: KallistiSettings;
  template: Template;
}

/** Authentication settings a deployment gives; every stage needs them unless deployed open on purpose. */
export const TEST_AUTH_CONTEXT: Record<string, string> = {
  authJwksUri: 'https://id.example.com/.well-known/jwks.json',
  authIssuer: 'https://id.example.com/',
  authAudience: 'kallisti',
};

/**
 * An App that synthesizes fast, for tests of the template: esbuild does not run (CDK's
 * `aws:cdk:bundling-stacks` context is empty, so each function's code is a placeholder asset, and no
 * template property but its hash changes), nor does CDK's built-in CloudFormation validation (it only
 * warns, and its engine takes longer to start than a synth). Together they were most of a synth's time.
 * `cdk synth` does both; so does the app of nag.test.ts, and bundle-size.test.ts builds each function.
 */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ builtinCloudFormationValidation: false, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
}

/**
 * Builds the stack as `cdk synth -c key=value …` would (context values as strings), environment-agnostic,
 * in a test app (above). Without authentication or openAccess in `given`, the test authentication settings
 * are added (a stage needs one or the other); openAccess=true without egressAllow gets an example allow-list.
 */
export function synth(given: Record<string, string> = {}): Synthesized {
  const app = testApp();
  const open = given['openAccess'] === 'true';
  const hasAuth = ['authJwksUri', 'authIssuer', 'authAudience'].some((key) => given[key] !== undefined);
  const context = open ? { egressAllow: 'api.example.com', ...given } : hasAuth ? given : { ...TEST_AUTH_CONTEXT, ...given };
  const settings = readSettings((key) => context[key]);
  const stack = new KallistiStack(app, stackName(settings.stage), { settings });
  return { app, stack, settings, template: Template.fromStack(stack) };
}

/** A CloudFormation resource as it appears in a synthesized template. */
export interface CfnResourceJson {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export interface StatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

export function resources(template: Template, type: string): [string, CfnResourceJson][] {
  return Object.entries(template.findResources(type) as Record<string, CfnResourceJson>);
}

/** The one resource of `type` whose logical id starts with `prefix`. */
export function resource(template: Template, type: string, prefix: string): [string, CfnResourceJson] {
  const found = resources(template, type).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`Expected one ${type} starting with ${prefix}, found ${found.map(([id]) => id).join(', ') || 'none'}`);
  return found[0] as [string, CfnResourceJson];
}

export function actions(statement: StatementJson): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourceList(statement: StatementJson): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** Statements of the identity policies attached to the role with this logical id. */
export function roleStatements(template: Template, roleId: string): StatementJson[] {
  return resources(template, 'AWS::IAM::Policy')
    .filter(([, policy]) => JSON.stringify(policy.Properties?.['Roles']).includes(`"${roleId}"`))
    .flatMap(([, policy]) => (policy.Properties?.['PolicyDocument'] as { Statement: StatementJson[] }).Statement);
}

export const getAtt = (logicalId: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [logicalId, attribute] });
