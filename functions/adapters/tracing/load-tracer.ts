import type { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * Powertools Tracer when KALLISTI_TRACING=true (the stack's `tracing` context flag), else
 * nothing: loaded on demand, so a function without tracing never loads the X-Ray SDK.
 * Outgoing HTTP calls are not traced automatically: HTTP steps' URLs can carry credentials.
 */
export async function loadTracer(env: NodeJS.ProcessEnv): Promise<Tracer | undefined> {
  if (env['KALLISTI_TRACING'] !== 'true') return undefined;
  const { Tracer: PowertoolsTracer } = await import('@aws-lambda-powertools/tracer');
  return new PowertoolsTracer({ serviceName: env['POWERTOOLS_SERVICE_NAME'] || 'kallisti', captureHTTPsRequests: false });
}
