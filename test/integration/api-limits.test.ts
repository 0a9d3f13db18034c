import { startApiHarness } from '../support/api-harness.js';
import { experimentBody } from '../support/fixtures.js';

type Harness = Awaited<ReturnType<typeof startApiHarness>>;
type Body = Record<string, unknown>;
let api: Harness;
let experimentId: string;

beforeAll(async () => {
  api = await startApiHarness();
  experimentId = String(((await api.call('POST', '/experiment', experimentBody())).body as Body)['id']);
});
afterAll(() => api.close());

const nest = (levels: number): unknown => (levels === 0 ? 1 : { a: nest(levels - 1) });
const longKey = 'k'.repeat(129);

describe('request limits', () => {
  it.each([
    ['POST', '/experiment', 'metadata["kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk…"]', () => ({ ...experimentBody(), metadata: { [longKey]: 'v' } })],
    ['POST', '/experiment', 'parameters', () => ({ ...experimentBody(), parameters: { big: 'x'.repeat(17 * 1024) } })],
    ['POST', '/experiment', 'parameters.n', () => ({ ...experimentBody(), parameters: { n: 1e20 } })],
    ['POST', '/experiment', 'steps[0].where.time_in_seconds', () => ({ ...experimentBody(), steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1e-200 } }] })],
    ['POST', '/experiment', 'steps[0].where', () => ({ ...experimentBody(), steps: [{ step: 'r', do: 'cm.http_request', where: { url: 'http://x', request_body: nest(17) } }] })],
    ['PATCH', '/experiment/{id}', 'post_steps[0].where', () => ({ post_steps: [{ step: 'r', do: 'cm.http_request', where: { url: 'http://x', request_body: 'b'.repeat(33 * 1024) } }] })],
    ['POST', '/trial', 'ticket', () => ({ experiment: experimentId, ticket: { big: 'x'.repeat(17 * 1024) } })],
    ['POST', '/trial', 'parameters["kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk…"]', () => ({ experiment: experimentId, parameters: { [longKey]: 1 } })],
    ['POST', '/experiment/{id}/schedule', 'parameters', () => ({ recurrence_pattern: '* * * * *', parameters: { deep: nest(16) } })],
  ])('%s %s answers 400 naming %s and stores nothing', async (method, path, field, body) => {
    const before = JSON.stringify(await api.experiments.get(experimentId));
    const res = await api.call(method, path.replace('{id}', experimentId), body());
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ message: 'Request body exceeds a limit', errors: [{ path: field, message: expect.any(String) }] });
    expect(JSON.stringify(await api.experiments.get(experimentId))).toBe(before);
    expect((await api.experiments.list({ limit: 10 })).items).toHaveLength(1);
    expect((await api.trials.list({}, { limit: 10 })).items).toHaveLength(0);
    expect((await api.schedules.listAll({ limit: 10 })).items).toHaveLength(0);
  });
});
