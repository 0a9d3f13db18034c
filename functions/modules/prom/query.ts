import type { StepModule } from '../types.js';
import { checkTimes, prometheusGet, PROM_PROPERTIES, TIME, timeParam } from './prometheus.js';

/** chaosprometheus `query`: an instant query (at `when`, default now); returns Prometheus' answer as is. */
export const query: StepModule = {
  name: 'prom.query',
  probe: true,
  description: 'Prometheus instant query at `when` (default now); the answer as Prometheus returns it.',
  whereSchema: { type: 'object', additionalProperties: false, required: ['base_url', 'query'], properties: { ...PROM_PROPERTIES, when: TIME } },
  checkWhere: checkTimes(['when']),
  async run(where, context) {
    const params: Record<string, string> = { query: String(where['query']) };
    if (where['when'] !== undefined) params['time'] = timeParam(where, 'when', new Date());
    if (where['timeout'] !== undefined) params['timeout'] = String(where['timeout']);
    return prometheusGet(where, 'query', params, context);
  },
};
