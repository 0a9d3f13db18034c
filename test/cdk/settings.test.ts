import { ApplicationLogLevel } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DEFAULT_SETTINGS, readSettings, stackName } from '../../lib/settings.js';

const read = (context: Record<string, unknown>) => readSettings((key) => context[key]);

describe('readSettings', () => {
  it('defaults to the dev stage, INFO logs, 30-day retention, retained data and no alarms or auth', () => {
    expect(read({})).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS).toMatchObject({ stage: 'dev', logLevel: ApplicationLogLevel.INFO, logRetentionDays: RetentionDays.ONE_MONTH, retain: true, tracing: false, gatewayBodyValidation: false, auth: {} });
  });

  it('reads `-c key=value` strings and typed cdk.json values alike', () => {
    const fromCli = read({ stage: 'prod', openAccess: 'true', logLevel: 'warn', logRetentionDays: '90', throttleRateLimit: '5', throttleBurstLimit: '10', tracing: 'true', retain: 'false', gatewayBodyValidation: 'false' });
    const fromJson = read({ stage: 'prod', openAccess: true, logLevel: 'WARN', logRetentionDays: 90, throttleRateLimit: 5, throttleBurstLimit: 10, tracing: true, retain: false, gatewayBodyValidation: false });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli).toMatchObject({ stage: 'prod', logLevel: 'WARN', logRetentionDays: 90, throttleRateLimit: 5, throttleBurstLimit: 10, tracing: true, retain: false });
  });

  it('deploys a non-dev stage only with authentication, or open when asked to explicitly', () => {
    const auth = { authJwksUri: 'https://id.example.com/jwks.json', authIssuer: 'https://id.example.com/', authAudience: 'kallisti' };
    expect(read({ stage: 'prod', ...auth }).auth).toEqual({
      KALLISTI_AUTH_JWKS_URI: auth.authJwksUri,
      KALLISTI_AUTH_JWT_ISSUER: auth.authIssuer,
      KALLISTI_AUTH_JWT_AUDIENCE: auth.authAudience,
    });
    expect(read({ stage: 'prod', openAccess: 'true' }).auth).toEqual({});
    expect(read({}).stage).toBe('dev');
  });

  it('sets only the auth settings given, and the alarm e-mail only when given', () => {
    expect(read({ authIdentityClaim: 'email' }).auth).toEqual({ KALLISTI_AUTH_IDENTITY_CLAIM: 'email' });
    expect(read({})).not.toHaveProperty('alarmEmail');
    expect(read({ alarmEmail: 'ops@example.com' }).alarmEmail).toBe('ops@example.com');
    expect(read({})).not.toHaveProperty('alarmTopicArn');
    expect(read({ alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops' }).alarmTopicArn).toBe('arn:aws:sns:eu-west-1:123456789012:ops');
  });

  it.each([
    [{ stage: 'prod' }, /Stage "prod" would be deployed without authentication/],
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

  it('names the stack after the stage', () => {
    expect(stackName('dev')).toBe('kallisti-dev');
  });
});
