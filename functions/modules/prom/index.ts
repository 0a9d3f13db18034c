import type { StepModule } from '../types.js';
import { queryInterval } from './query-interval.js';
import { query } from './query.js';

/** The `prom` namespace: chaosprometheus probes, over the HTTP steps' guarded client. */
export const PROM_MODULES: readonly StepModule[] = [query, queryInterval];
