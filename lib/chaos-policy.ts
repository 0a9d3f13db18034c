import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { IamGrant, StepModule } from '../functions/modules/types.js';
import { acknowledgeNag, wildcardResourceFinding } from './nag.js';

export interface ChaosPolicyProps {
  /** The role of the function that runs the steps. */
  role: iam.IRole;
  /** The step commands whose declared permissions are granted (the `aws` namespace). */
  modules: readonly StepModule[];
  /** Required on the target of every destructive action (aws:ResourceTag); undefined lifts the restriction. */
  tag: { key: string; value: string } | undefined;
  /** Roles steps may assume (sts:AssumeRole on exactly these). */
  assumeRoleArns: readonly string[];
}

interface Group {
  resources: string[];
  tagged: boolean;
  actions: Set<string>;
}

function fill(pattern: string): string {
  return pattern.replaceAll('{partition}', Aws.PARTITION).replaceAll('{account}', Aws.ACCOUNT_ID);
}

/** Declared grants merged into one statement per (resources, tagged), actions sorted: a stable, reviewable policy. */
export function groupGrants(modules: readonly StepModule[]): Group[] {
  const groups = new Map<string, Group>();
  for (const module of modules) {
    for (const grant of module.iam ?? ([] as IamGrant[])) {
      for (const action of grant.actions) {
        if (!/^[a-z0-9-]+:[A-Za-z0-9]+$/.test(action)) throw new Error(`Step ${module.name} declares IAM action "${action}": only exact actions (service:Action), never a wildcard`);
      }
      if (grant.tagged && !grant.resources?.length) throw new Error(`Step ${module.name} declares a tagged grant without resources: a tag condition needs resource ARNs`);
      const resources = [...(grant.resources ?? ['*'])].sort();
      const key = `${grant.tagged === true}|${resources.join(',')}`;
      const group = groups.get(key) ?? { resources, tagged: grant.tagged === true, actions: new Set<string>() };
      grant.actions.forEach((action) => group.actions.add(action));
      groups.set(key, group);
    }
  }
  return [...groups.values()].sort((a, b) => `${a.tagged}${a.resources.join()}`.localeCompare(`${b.tagged}${b.resources.join()}`));
}

/**
 * The worker's permissions for AWS steps, generated from what each registered command
 * declares: nothing else is granted. Destructive actions carry an aws:ResourceTag
 * condition on the deployment's chaos tag; actions AWS offers no resource-level
 * permissions for (Describe*, List*, Get* on metrics) get `*`, which only they can.
 */
export class ChaosPolicy extends Construct {
  readonly policy: iam.Policy;

  constructor(scope: Construct, id: string, props: ChaosPolicyProps) {
    super(scope, id);
    const statements = groupGrants(props.modules).map(
      (group) =>
        new iam.PolicyStatement({
          actions: [...group.actions].sort(),
          resources: group.resources.map(fill),
          ...(group.tagged && props.tag && { conditions: { StringEquals: { [`aws:ResourceTag/${props.tag.key}`]: props.tag.value } } }),
        }),
    );
    if (props.assumeRoleArns.length > 0) statements.push(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [...props.assumeRoleArns] }));
    this.policy = new iam.Policy(this, 'Policy', { statements });
    props.role.attachInlinePolicy(this.policy);

    const wildcards = [...new Set(groupGrants(props.modules).flatMap((g) => g.resources.filter((r) => r.includes('*'))))];
    acknowledgeNag(
      this.policy,
      ...wildcards.map((resource) => ({
        id: resource === '*' ? 'AwsSolutions-IAM5[Resource::*]' : wildcardResourceFinding(this, fill(resource)),
        reason:
          resource === '*'
            ? 'Describe/List/Get actions of AWS steps (ec2:DescribeInstances, cloudwatch:GetMetricData…) have no resource-level permissions; AWS requires Resource "*" for them. Only read actions get it (tested).'
            : 'AWS steps act on resources the experiment names at run time, in any region it names; destructive actions are further limited by an aws:ResourceTag condition (tested).',
      })),
    );
  }
}
