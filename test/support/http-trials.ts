/**
 * Trials over real HTTP against a running local API, by its base URL: the
 * in-process server or an `npm start` child process alike.
 */

export interface StepLog {
  step_name: string;
  logs: string[];
}

/** A trial as GET /trial/{id} answers it (the fields the tests read). */
export interface TrialBody {
  id: string;
  status: string;
  invocations: number;
  executed_at: string | null;
  completed_at: string | null;
  trial_record: { steps: StepLog[]; post_steps: StepLog[]; result?: StepLog[] };
}

const FINAL_STATUSES = ['Succeeded', 'Failed', 'Aborted', 'Stopped', 'Invalid'];

export const isFinished = (trial: TrialBody): boolean => FINAL_STATUSES.includes(trial.status);

/** POSTs JSON that must be created (201); returns the new resource's id. */
export async function post(url: string, body: unknown): Promise<{ id: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string };
}

export async function trialOf(base: string, id: string): Promise<TrialBody> {
  return (await (await fetch(`${base}/trial/${id}`)).json()) as TrialBody;
}

/** Reads the trial until `done` holds, at most `timeoutMs` of real time. */
export async function until(base: string, id: string, done: (trial: TrialBody) => boolean, timeoutMs: number): Promise<TrialBody> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const trial = await trialOf(base, id);
    if (done(trial)) return trial;
    if (Date.now() > end) throw new Error(`trial ${id} still ${trial.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
