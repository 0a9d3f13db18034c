import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { KallistiFunction } from './kallisti-function.js';
import { acknowledgeNag, wildcardResourceFinding } from './nag.js';

/** Secret names / parameter paths steps may reference when the deployment does not choose: `kallisti/<stage>/`. */
export const defaultSecretPrefix = (stage: string): string => `kallisti/${stage}/`;

/** The ARNs the worker may read: secrets and parameters whose names start with `prefix`, in this account and region. */
export function stepSecretArns(scope: Construct, prefix: string): { secrets: string; parameters: string } {
  const stack = Stack.of(scope);
  const name = prefix.replace(/^\//, '');
  return {
    // Secrets Manager appends "-" and six random characters to a secret's name in its ARN.
    secrets: stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${name}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    // A parameter's ARN holds its path without the leading slash.
    parameters: stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${name}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
  };
}

/**
 * Lets the worker resolve step credentials that reference `{ "type": "secretsmanager" | "ssm", "id" }`:
 * GetSecretValue and GetParameter on names under the prefix only, and tells the worker the prefix
 * (it refuses other names before asking AWS). Keys encrypted with a customer managed KMS key also
 * need kms:Decrypt for the worker role in that key's policy; AWS managed keys need nothing more.
 */
export function grantStepSecrets(scope: Construct, worker: KallistiFunction, prefix: string): void {
  const arns = stepSecretArns(scope, prefix);
  worker.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [arns.secrets] }));
  worker.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [arns.parameters] }));
  worker.addEnvironment('KALLISTI_SECRET_PREFIX', prefix);
  acknowledgeNag(
    worker.role,
    { id: wildcardResourceFinding(scope, arns.secrets), reason: `Step credentials name secrets at run time; the worker may read only those under the configured prefix "${prefix}".` },
    { id: wildcardResourceFinding(scope, arns.parameters), reason: `Step credentials name SSM parameters at run time; the worker may read only those under the configured prefix "${prefix}".` },
  );
}
