import { Stack, Validations } from 'aws-cdk-lib';
// cdk-nag's own formatter for resource findings (not re-exported from the package root), so finding ids match exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

export interface NagAcknowledgment {
  /** A cdk-nag rule id, or `RuleId[finding]` for one finding of a rule that reports several (e.g. IAM5). */
  id: string;
  /** Why the finding is acceptable here; it is recorded in the construct's metadata. */
  reason: string;
}

/** Acknowledges cdk-nag findings on `scope` and everything under it, each with its written reason. */
export function acknowledgeNag(scope: IConstruct, ...rules: NagAcknowledgment[]): void {
  for (const rule of rules) {
    if (rule.reason.trim().length < 20) throw new Error(`cdk-nag acknowledgment ${rule.id} needs a real reason`);
    Validations.of(scope).acknowledge(rule);
  }
}

/**
 * The id of the AwsSolutions-IAM5 finding for a wildcard resource ARN, as cdk-nag spells it
 * (`<Logical.Arn>/index/*`, `arn:<AWS::Partition>:…`), whether or not the stack's region and
 * account are known at synth time.
 */
export function wildcardResourceFinding(scope: IConstruct, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(arn))}]`;
}
