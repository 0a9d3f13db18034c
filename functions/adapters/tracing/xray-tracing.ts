import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { TrialObserver } from '../../observability/trial-observer.js';

/** X-Ray annotation keys: indexed, so traces can be searched by trial, experiment and outcome. */
export const ANNOTATIONS = { trial: 'trial_id', experiment: 'experiment_id', status: 'status', module: 'step_command' } as const;

/**
 * X-Ray through Powertools Tracer: one subsegment per step (named after its command,
 * annotated with the trial id, experiment id, command and status `ok`/`failed`), and
 * the handler's subsegment annotated when a trial starts and ends.
 */
export function tracingObserver(tracer: Tracer): TrialObserver {
  return {
    trialStarted: (event) => {
      tracer.putAnnotation(ANNOTATIONS.trial, event.trialId);
      tracer.putAnnotation(ANNOTATIONS.experiment, event.experimentId);
    },
    trialFinished: (event) => {
      tracer.putAnnotation(ANNOTATIONS.trial, event.trialId);
      tracer.putAnnotation(ANNOTATIONS.experiment, event.experimentId);
      tracer.putAnnotation(ANNOTATIONS.status, event.status);
    },
    step: async (event, run) => {
      const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
      if (!parent) return run();
      const subsegment = parent.addNewSubsegment(`step ${event.module}`);
      tracer.setSegment(subsegment);
      subsegment.addAnnotation(ANNOTATIONS.module, event.module);
      if (event.trialId !== undefined) subsegment.addAnnotation(ANNOTATIONS.trial, event.trialId);
      if (event.experimentId !== undefined) subsegment.addAnnotation(ANNOTATIONS.experiment, event.experimentId);
      try {
        const result = await run();
        subsegment.addAnnotation(ANNOTATIONS.status, 'ok');
        return result;
      } catch (error) {
        subsegment.addAnnotation(ANNOTATIONS.status, 'failed');
        // The error's class only: step errors can carry URLs or bodies with credentials.
        subsegment.addError(error instanceof Error ? error.name : 'Error');
        throw error;
      } finally {
        subsegment.close();
        tracer.setSegment(parent);
      }
    },
  };
}

/**
 * Wraps a Lambda handler in a `## handler` subsegment of the invocation's segment (cold
 * start and service annotated, errors recorded), as Powertools' captureLambdaHandler does.
 */
export function traceHandler<E, C, R>(tracer: Tracer, handler: (event: E, context: C) => Promise<R>): (event: E, context: C) => Promise<R> {
  return async (event, context) => {
    const segment = tracer.getSegment();
    const subsegment = segment?.addNewSubsegment('## handler');
    if (subsegment) tracer.setSegment(subsegment);
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
    try {
      return await handler(event, context);
    } catch (error) {
      tracer.addErrorAsMetadata(error as Error);
      throw error;
    } finally {
      subsegment?.close();
      if (segment) tracer.setSegment(segment);
    }
  };
}
