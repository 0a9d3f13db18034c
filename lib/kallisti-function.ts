import { AssetHashType, DockerImage, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, Code, Function as LambdaFunction, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT, type LambdaName } from './bundling.js';
import { acknowledgeNag } from './nag.js';

/** Bundles already built in this process (synthesizing several stacks builds each function once). */
const built = new Map<LambdaName, string>();

/**
 * The bundle of one entry, built by scripts/bundle-lambda.ts (lib/bundling.ts: esbuild with
 * code splitting and build-time validators) in a child process, since CDK's local bundling
 * hook is synchronous and the build is not. Never Docker: synth works offline.
 */
export function lambdaCode(name: LambdaName): Code {
  return Code.fromAsset(PROJECT_ROOT, {
    // Hash what is deployed, not the repository.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the API but never used: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
      command: ['bundle-lambda', name],
      local: {
        tryBundle(outputDir: string): boolean {
          let dir = built.get(name);
          if (dir === undefined) {
            const tempDir = mkdtempSync(path.join(tmpdir(), `kallisti-${name}-`));
            process.once('exit', () => rmSync(tempDir, { recursive: true, force: true }));
            dir = tempDir;
            execFileSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'bundle-lambda.ts'), name, dir], { cwd: PROJECT_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
            built.set(name, dir);
          }
          cpSync(dir, outputDir, { recursive: true });
          return true;
        },
      },
    },
  });
}

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
 * source maps (code split: what loads on demand is in chunks/), JSON logs into an explicit log group with retention, and a role that
 * can write to that log group only (instead of AWSLambdaBasicExecutionRole, which
 * allows writing to any log group). Environment variables are added with
 * `addEnvironment` next to the grant they go with.
 */
export class KallistiFunction extends Construct {
  readonly function: LambdaFunction;
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

    this.function = new LambdaFunction(this, 'Function', {
      code: lambdaCode(props.entry),
      handler: 'index.handler',
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
