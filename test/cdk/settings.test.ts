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
    const fromCli = read({ stage: 'prod', logLevel: 'warn', logRetentionDays: '90', throttleRateLimit: '5', throttleBurstLimit: '10', tracing: 'true', retain: 'false', gatewayBodyValidation: 'false' });
    const fromJson = read({ stage: 'prod', logLevel: 'WARN', logRetentionDays: 90, throttleRateLimit: 5, throttleBurstLimit: 10, tracing: true, retain: false, gatewayBodyValidation: false });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli).toMatchObject({ stage: 'prod', logLevel: 'WARN', logRetentionDays: 90, throttleRateLimit: 5, throttleBurstLimit: 10, tracing: true, retain: false });
  });

  it('sets only the auth settings given, and the alarm e-mail only when given', () => {
    expect(read({ authIssuer: 'https://id.example.com/' }).auth).toEqual({ KALLISTI_AUTH_JWT_ISSUER: 'https://id.example.com/' });
    expect(read({})).not.toHaveProperty('alarmEmail');
    expect(read({ alarmEmail: 'ops@example.com' }).alarmEmail).toBe('ops@example.com');
  });

  it.each([
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
    [{ stage: { name: 'dev' } }, /stage/],
  ])('rejects %j', (context, message) => {
    expect(() => read(context)).toThrow(message);
  });

  it('names the stack after the stage', () => {
    expect(stackName('dev')).toBe('kallisti-dev');
  });
});
