import type { StepModule } from '../types.js';
import { httpMaxRunMs, httpWhereSchema, performHttp } from './http.js';

/** `cm.http_request`: an HTTP call that never fails on status (judge it with `expect`). */
export const httpRequest: StepModule = {
  name: 'cm.http_request',
  description: 'HTTP request whose status is judged only by expectations.',
  probe: true,
  whereSchema: httpWhereSchema,
  maxRunMs: httpMaxRunMs,
  async run(where, context) {
    const output = await performHttp(where, context);
    context.log(`Received status ${output.status_code} in ${output.response_time_in_seconds} s.`);
    return output;
  },
};
