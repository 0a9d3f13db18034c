import { randomUUID } from 'node:crypto';
import type { Clock, IdGenerator } from './ports.js';

/** The real clock and id generator, in a module of their own: importing them loads no use case. */
export const systemClock: Clock = { now: () => new Date() };
export const uuidIds: IdGenerator = { newId: () => randomUUID() };
