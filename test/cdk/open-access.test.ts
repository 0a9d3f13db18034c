import { App } from 'aws-cdk-lib';
import { addKallistiStack } from '../../lib/kallisti-app.js';
import { readSettings } from '../../lib/settings.js';
import { resource, synth } from './synth.js';

const read = (context: Record<string, unknown>) => readSettings((key) => context[key]);
const AUTH = { authJwksUri: 'https://id.example.com/jwks.json', authIssuer: 'https://id.example.com/', authAudience: 'kallisti' };

describe('open access is an explicit choice for every stage', () => {
  it.each(['dev', 'prod', 'ci'])('refuses to synthesize stage %s without authentication or openAccess=true, saying why', (stage) => {
    expect(() => read({ stage })).toThrow(`Stage "${stage}" would be deployed without authentication`);
    expect(() => read({ stage })).toThrow('-c openAccess=true');
    const app = new App({ context: { stage } });
    expect(() => addKallistiStack(app)).toThrow(/without authentication: anyone on the internet could run experiments and make the worker send HTTP requests/);
  });

  it('refuses openAccess=true without an egress allow-list', () => {
    expect(() => read({ openAccess: 'true' })).toThrow(/openAccess=true needs -c egressAllow=/);
    expect(() => read({ openAccess: 'true', egressAllow: '' })).toThrow(/egressAllow/);
  });

  it('refuses a malformed egress allow-list, naming the entry', () => {
    expect(() => read({ ...AUTH, egressAllow: 'api.example.com,10.0.0.0/40' })).toThrow('Context egressAllow: "10.0.0.0/40" is not a valid CIDR range');
  });

  it('deploys open with an allow-list, which the worker enforces', () => {
    const settings = read({ openAccess: 'true', egressAllow: 'api.example.com, 10.0.0.0/8' });
    expect(settings).toMatchObject({ openAccess: true, egressAllow: 'api.example.com,10.0.0.0/8', auth: {} });
    const { template } = synth({ openAccess: 'true', egressAllow: 'api.example.com,10.0.0.0/8' });
    const [, worker] = resource(template, 'AWS::Lambda::Function', 'WorkerFunction');
    expect((worker.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables['KALLISTI_EGRESS_ALLOW']).toBe('api.example.com,10.0.0.0/8');
  });

  it('with authentication, needs no openAccess and passes an allow-list when one is given', () => {
    expect(read(AUTH)).toMatchObject({ openAccess: false });
    expect(read(AUTH)).not.toHaveProperty('egressAllow');
    const { template } = synth({ ...AUTH });
    const [, worker] = resource(template, 'AWS::Lambda::Function', 'WorkerFunction');
    expect((worker.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables).not.toHaveProperty('KALLISTI_EGRESS_ALLOW');
  });
});
