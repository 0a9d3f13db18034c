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
    // No env: the template is environment-agnostic (AWS::Region / AWS::AccountId in every ARN and
    // condition), so one synthesized template deploys to any account and region.
    tags: { app: 'kallisti', stage: settings.stage },
  });
}
