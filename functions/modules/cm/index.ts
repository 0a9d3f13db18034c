import type { StepModule } from '../types.js';
import { httpProbe } from './http-probe.js';
import { httpRequest } from './http-request.js';
import { wait } from './wait.js';

/** The `cm` namespace: Kallisti's own HTTP steps and the wait. */
export const CM_MODULES: readonly StepModule[] = [httpProbe, httpRequest, wait];
