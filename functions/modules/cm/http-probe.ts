import { StepFailedError, type StepModule } from '../types.js';
import { httpMaxRunMs, httpWhereSchema, performHttp } from './http.js';

/** `cm.http_probe`: an HTTP call that fails the step on a 4xx or 5xx answer. */
export const httpProbe: StepModule = {
  name: 'cm.http_probe',
  description: 'HTTP request that fails on a 4xx/5xx status.',
  probe: true,
  whereSchema: httpWhereSchema,
  maxRunMs: httpMaxRunMs,
  async run(where, context) {
    const output = await performHttp(where, context);
    context.log(`Received status ${output.status_code} in ${output.response_time_in_seconds} s.`);
    if (output.status_code >= 400) {
      throw new StepFailedError(`HTTP probe failed: status ${output.status_code}`, output, 'status');
    }
    return output;
  },
};
