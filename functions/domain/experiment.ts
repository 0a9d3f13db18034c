import type { Guard } from './guards.js';
import type { JsonObject, Json } from './types.js';

export const EXPECTATION_OPERATORS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'regex'] as const;
export type ExpectationOperator = (typeof EXPECTATION_OPERATORS)[number];

/** `{ "operator": "eq", "status_code": 200 }`: one operator and one path → expected value. */
export type Expectation = { operator: ExpectationOperator } & { [path: string]: Json };

export interface Step {
  step: string;
  do: string;
  where: JsonObject;
  expect?: Expectation[];
}

export interface ExperimentDefinition {
  name: string;
  description?: string;
  metadata?: JsonObject;
  parameters?: JsonObject;
  pre_steps?: Step[];
  steps: Step[];
  post_steps?: Step[];
  /** Checks that stop a trial when the system under test is unwell (see guards.ts). */
  guards?: Guard[];
}

export interface Experiment extends ExperimentDefinition {
  id: string;
  created_by: string;
  created_at: string;
  updated_by: string;
  updated_at: string;
  description: string;
  metadata: JsonObject;
  parameters: JsonObject;
  pre_steps: Step[];
  post_steps: Step[];
}

export const STEP_LISTS = ['pre_steps', 'steps', 'post_steps'] as const;
export type StepList = (typeof STEP_LISTS)[number];

/** Fills the optional parts so stored experiments always have the same shape. */
export function normaliseDefinition(def: ExperimentDefinition): Omit<Experiment, 'id' | 'created_by' | 'created_at' | 'updated_by' | 'updated_at'> {
  return {
    name: def.name,
    description: def.description ?? '',
    metadata: def.metadata ?? {},
    parameters: def.parameters ?? {},
    pre_steps: def.pre_steps ?? [],
    steps: def.steps,
    post_steps: def.post_steps ?? [],
    // Only when given: experiments without guards keep their Kallisti shape.
    ...(def.guards && def.guards.length > 0 ? { guards: def.guards } : {}),
  };
}
