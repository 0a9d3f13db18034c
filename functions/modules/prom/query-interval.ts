import type { StepModule } from '../types.js';
import { checkTimes, DURATION, prometheusGet, PROM_PROPERTIES, TIME, timeParam } from './prometheus.js';

/** chaosprometheus `query_interval`: a range query from `start` to `end` every `step` (default 1 s). */
export const queryInterval: StepModule = {
  name: 'prom.query_interval',
  probe: true,
  description: 'Prometheus range query from `start` to `end` at `step` resolution; the answer as Prometheus returns it.',
  whereSchema: { type: 'object', additionalProperties: false, required: ['base_url', 'query', 'start', 'end'], properties: { ...PROM_PROPERTIES, start: TIME, end: TIME, step: DURATION } },
  checkWhere: checkTimes(['start', 'end']),
  async run(where, context) {
    const now = new Date();
    const params: Record<string, string> = { query: String(where['query']), start: timeParam(where, 'start', now), end: timeParam(where, 'end', now), step: String(where['step'] ?? 1) };
    if (where['timeout'] !== undefined) params['timeout'] = String(where['timeout']);
    return prometheusGet(where, 'query_range', params, context);
  },
};
