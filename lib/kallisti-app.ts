import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KallistiStack } from './kallisti-stack.js';
import { readSettings, stackName } from './settings.js';

/**
 * Adds the stack for the stage chosen in context, with the cdk-nag AWS Solutions checks
 * registered as a validation plugin: `cdk synth` and `cdk deploy` stop on any finding
 * that is not acknowledged with a reason.
 */
export function addKallistiStack(app: App): KallistiStack {
  const settings = readSettings((key) => app.node.tryGetContext(key));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return new KallistiStack(app, stackName(settings.stage), {
    settings,
    description: `Kallisti Serverless (${settings.stage}): chaos-engineering control plane`,
    // Account and region come from the deploying credentials; without them (offline synth) the stack is environment-agnostic.
    env: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] },
    tags: { app: 'kallisti', stage: settings.stage },
  });
}
