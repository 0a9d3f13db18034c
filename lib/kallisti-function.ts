import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { entryPath, LAMBDA_BUNDLING, PROJECT_ROOT, type LambdaName } from './bundling.js';
import { acknowledgeNag } from './nag.js';

export interface KallistiFunctionProps {
  /** Which entry of `LAMBDA_ENTRIES` to bundle; it exports `handler`. */
  entry: LambdaName;
  description: string;
  timeout: Duration;
  memorySize: number;
  logLevel: ApplicationLogLevel;
  logRetention: logs.RetentionDays;
  /** Keep the log group when the stack is deleted. */
  retainLogs: boolean;
  tracing: boolean;
  reservedConcurrentExecutions?: number;
  /** A fixed name, for a function invoked by name from outside the stack; generated when omitted. */
  functionName?: string;
}

/**
 * The defaults every Kallisti Lambda shares: Node.js 22 on arm64, ESM bundle with
 * source maps, JSON logs into an explicit log group with retention, and a role that
 * can write to that log group only (instead of AWSLambdaBasicExecutionRole, which
 * allows writing to any log group). Environment variables are added with
 * `addEnvironment` next to the grant they go with.
 */
export class KallistiFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: KallistiFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the Kallisti ${props.entry} function`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: entryPath(props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: props.logLevel,
      systemLogLevelV2: SystemLogLevel.WARN,
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      ...(props.reservedConcurrentExecutions !== undefined && { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      ...(props.functionName !== undefined && { functionName: props.functionName }),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        // The Powertools logger's own level (functions/logging.ts), kept equal to the Lambda's log filter.
        LOG_LEVEL: props.logLevel,
      },
      bundling: LAMBDA_BUNDLING,
    });

    acknowledgeNag(this.function, {
      id: 'AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x, the Node.js line CI tests on; moving to a newer runtime is a deliberate upgrade (with the tests and the esbuild target), not a side effect of a cdk-nag update.',
    });

    if (props.tracing) {
      acknowledgeNag(this.role, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions; AWS requires Resource "*" for them (the test checks no other action gets "*").',
      });
    }
  }

  /** Sets an environment variable; call it beside the grant that makes the value usable. */
  addEnvironment(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }
}
