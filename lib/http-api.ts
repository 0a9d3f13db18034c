import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import openapi from '../openapi.json' with { type: 'json' };
import { gatewaySpec } from './gateway-spec.js';
import { acknowledgeNag } from './nag.js';

export interface HttpApiProps {
  stage: string;
  handler: lambda.IFunction;
  throttleRateLimit: number;
  throttleBurstLimit: number;
  tracing: boolean;
  validateBody: boolean;
  logRetention: logs.RetentionDays;
  retainLogs: boolean;
  /** Deployed without authentication on purpose (openAccess=true). */
  openAccess: boolean;
  /** Create API Gateway's account-level CloudWatch role (one per account and region). */
  manageCloudWatchRole: boolean;
}

const F = apigateway.AccessLogField;

/** One JSON object per request; `$context.error.message` (unquoted form) keeps each line valid JSON. */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: F.contextRequestId(),
  extendedRequestId: F.contextExtendedRequestId(),
  requestTime: F.contextRequestTime(),
  ip: F.contextIdentitySourceIp(),
  userAgent: F.contextIdentityUserAgent(),
  httpMethod: F.contextHttpMethod(),
  resourcePath: F.contextResourcePath(),
  path: F.contextPath(),
  protocol: F.contextProtocol(),
  status: F.contextStatus(),
  responseLength: F.contextResponseLength(),
  responseLatency: F.contextResponseLatency(),
  integrationStatus: F.contextIntegrationStatus(),
  integrationLatency: F.contextIntegrationLatency(),
  errorType: F.contextErrorResponseType(),
  error: F.contextErrorMessage(),
  xrayTraceId: F.contextXrayTraceId(),
});

/**
 * The REST API, imported from openapi.json (routes, parameters, request models) with a
 * Lambda proxy integration on every operation. `ApiDefinition.fromInline` is used rather
 * than `fromAsset` because the document carries the function ARN as a CDK token.
 */
export class HttpApi extends Construct {
  readonly api: apigateway.SpecRestApi;
  readonly accessLogs: logs.LogGroup;
  /** The gateway document, as synthesized (tokens unresolved). */
  readonly definition: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);

    this.definition = gatewaySpec(openapi as Record<string, unknown>, {
      integrationUri: `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}:lambda:path/2015-03-31/functions/${props.handler.functionArn}/invocations`,
      validateBody: props.validateBody,
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.api = new apigateway.SpecRestApi(this, 'Api', {
      restApiName: `kallisti-${props.stage}`,
      description: `Kallisti Serverless API (${props.stage})`,
      apiDefinition: apigateway.ApiDefinition.fromInline(this.definition),
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // API Gateway needs an account-level role to write any logs to CloudWatch. It is one setting per
      // account and region, so only a stack deployed with apiGatewayCloudWatchRole=true manages it
      // (kept on delete: other APIs rely on it); see docs/deploy.md.
      cloudWatchRole: props.manageCloudWatchRole,
      ...(props.manageCloudWatchRole && { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN }),
      deployOptions: {
        stageName: props.stage,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
        // Execution logs for errors only; request and response bodies are never logged (experiments may carry credentials).
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: props.throttleRateLimit,
        throttlingBurstLimit: props.throttleBurstLimit,
        tracingEnabled: props.tracing,
      },
    });

    // Only this API's deployed stage may invoke the function.
    props.handler.addPermission('InvokeFromApiGateway', {
      principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceArn: this.api.arnForExecuteApi('*', '/*', props.stage),
    });

    acknowledgeNag(
      this,
      {
        id: 'AwsSolutions-APIG2',
        reason: 'Request validators are declared in the imported OpenAPI document (x-amazon-apigateway-request-validators), which cdk-nag does not read; the Lambda also validates every request against openapi.json.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason: 'No WAF web ACL by default: the API is throttled at the stage, and a WAF (a per-account cost) can be associated with the stage by the operator. See docs/deploy.md.',
      },
      {
        id: 'AwsSolutions-APIG4',
        reason: props.openAccess
          ? 'Deployed without authentication on purpose (-c openAccess=true, refused otherwise); HTTP steps may then reach only the hosts of -c egressAllow (required with openAccess).'
          : 'Authentication belongs to the API Lambda (JWT bearer tokens checked against the JWKS, issuer and audience given as context, required to synthesize), the same code in local mode; health, docs and openapi.json are public by design.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason: props.openAccess
          ? 'Deployed without authentication on purpose (-c openAccess=true, refused otherwise), so no Cognito authorizer either.'
          : 'Callers authenticate with JWTs from any OIDC provider (checked in the Lambda, configured by context), not with a Cognito user pool authorizer.',
      },
    );
    if (props.manageCloudWatchRole) {
      acknowledgeNag(this, {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'The account-level API Gateway CloudWatch role uses AmazonAPIGatewayPushToCloudWatchLogs, the AWS managed policy made for exactly this role.',
      });
    }
  }

  /** The invoke URL of the stage, ending in `/`. */
  get url(): string {
    return this.api.url;
  }
}
