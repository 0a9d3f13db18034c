import { ApplicationLogLevel } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DEFAULT_SETTINGS, readSettings, stackName } from '../../lib/settings.js';

const AUTH = { authJwksUri: 'https://id.example.com/jwks.json', authIssuer: 'https://id.example.com/', authAudience: 'kallisti' };
const AUTH_ENV = { KALLISTI_AUTH_JWKS_URI: AUTH.authJwksUri, KALLISTI_AUTH_JWT_ISSUER: AUTH.authIssuer, KALLISTI_AUTH_JWT_AUDIENCE: AUTH.authAudience };
/** Context as given when it chooses authentication or openAccess; otherwise with the authentication every stage needs. */
const read = (given: Record<string, unknown>) => {
  const chosen = given['openAccess'] !== undefined || Object.keys(AUTH).some((key) => given[key] !== undefined);
  const context: Record<string, unknown> = chosen ? given : { ...AUTH, ...given };
  return readSettings((key) => context[key]);
};

describe('readSettings', () => {
  it('defaults to the dev stage, INFO logs, 30-day retention, retained data, no alarms, and needs authentication', () => {
    expect(read({})).toEqual({ ...DEFAULT_SETTINGS, auth: AUTH_ENV });
    expect(DEFAULT_SETTINGS).toMatchObject({ stage: 'dev', logLevel: ApplicationLogLevel.INFO, logRetentionDays: RetentionDays.ONE_MONTH, retain: true, tracing: false, gatewayBodyValidation: false, auth: {}, openAccess: false, apiGatewayCloudWatchRole: false });
    expect(() => readSettings(() => undefined)).toThrow('Stage "dev" would be deployed without authentication');
  });

  it('reads `-c key=value` strings and typed cdk.json values alike', () => {
    const fromCli = read({ stage: 'prod', openAccess: 'true', egressAllow: 'example.com', logLevel: 'warn', logRetentionDays: '90', throttleRateLimit: '5', throttleBurstLimit: '10', tracing: 'true', retain: 'false', gatewayBodyValidation: 'false' });
    const fromJson = read({ stage: 'prod', openAccess: true, egressAllow: 'example.com', logLevel: 'WARN', logRetentionDays: 90, throttleRateLimit: 5, throttleBurstLimit: 10, tracing: true, retain: false, gatewayBodyValidation: false });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli).toMatchObject({ stage: 'prod', logLevel: 'WARN', logRetentionDays: 90, throttleRateLimit: 5, throttleBurstLimit: 10, tracing: true, retain: false });
  });

  it('deploys any stage only with authentication, or open when asked to explicitly (with an egress allow-list)', () => {
    expect(read({ stage: 'prod', ...AUTH }).auth).toEqual(AUTH_ENV);
    expect(read({ stage: 'prod', openAccess: 'true', egressAllow: '10.0.0.0/8' })).toMatchObject({ auth: {}, openAccess: true, egressAllow: '10.0.0.0/8' });
    expect(read({}).stage).toBe('dev');
  });

  it('sets only the auth settings given, and the alarm e-mail only when given', () => {
    expect(read({ authIdentityClaim: 'email' }).auth).toEqual({ ...AUTH_ENV, KALLISTI_AUTH_IDENTITY_CLAIM: 'email' });
    expect(read({})).not.toHaveProperty('alarmEmail');
    expect(read({ alarmEmail: 'ops@example.com' }).alarmEmail).toBe('ops@example.com');
    expect(read({})).not.toHaveProperty('alarmTopicArn');
    expect(read({ alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops' }).alarmTopicArn).toBe('arn:aws:sns:eu-west-1:123456789012:ops');
  });

  it.each([
    [{ stage: 'prod', openAccess: 'false' }, /Stage "prod" would be deployed without authentication/],
    [{ apiGatewayCloudWatchRole: 'yes' }, /apiGatewayCloudWatchRole/],
    [{ stage: 'prod', openAccess: 'yes' }, /openAccess/],
    [{ authJwksUri: 'https://id.example.com/jwks.json', authIssuer: 'https://id.example.com/' }, /authAudience must be set too/],
    [{ stage: 'Prod' }, /stage/],
    [{ stage: 'a'.repeat(25) }, /stage/],
    [{ stage: 'dev_1' }, /stage/],
    [{ logLevel: 'FATAL' }, /logLevel/],
    [{ logRetentionDays: '31' }, /logRetentionDays/],
    [{ throttleRateLimit: '0' }, /throttleRateLimit/],
    [{ throttleBurstLimit: 'many' }, /throttleBurstLimit/],
    [{ tracing: 'yes' }, /tracing/],
    [{ retain: '1' }, /retain/],
    [{ authJwksUri: 'http://id.example.com/jwks' }, /authJwksUri/],
    [{ alarmEmail: 'ops' }, /alarmEmail/],
    [{ alarmTopicArn: 'ops-topic' }, /alarmTopicArn must be the ARN of a standard SNS topic/],
    [{ alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops.fifo' }, /alarmTopicArn/],
    [{ alarmTopicArn: 'arn:aws:sqs:eu-west-1:123456789012:ops' }, /alarmTopicArn/],
    [{ stage: { name: 'dev' } }, /stage/],
  ])('rejects %j', (context, message) => {
    expect(() => read(context)).toThrow(message);
  });

  it('reads the prefix of step-credential secrets (a path ending in "/"), absent unless given', () => {
    expect(read({}).secretPrefix).toBeUndefined();
    expect(read({ secretPrefix: 'chaos/prod/' }).secretPrefix).toBe('chaos/prod/');
    expect(read({ secretPrefix: '/chaos/prod/' }).secretPrefix).toBe('/chaos/prod/');
    // Without the final "/" a sibling (chaos/prod-other) would match too; "*" would widen the IAM grant.
    for (const bad of ['chaos/prod', 'chaos/*/', '/', 'a b/']) expect(() => read({ secretPrefix: bad })).toThrow('Context secretPrefix must be a path of names ending in "/"');
  });

  it('names the stack after the stage', () => {
    expect(stackName('dev')).toBe('kallisti-dev');
  });
});
