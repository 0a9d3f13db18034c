import type { ExperimentDefinition } from '../domain/experiment.js';
import type { ExperimentUseCases } from '../use-cases/experiments.js';
import type { ScheduleDefinition } from '../domain/schedule.js';
import type { PreviewRequest, ScheduleUseCases } from '../use-cases/schedules.js';
import type { TrialInput, TrialUseCases } from '../use-cases/trials.js';
import type { ReportUseCases } from '../use-cases/report.js';
import type { FreezeInput, HaltInput } from '../domain/safety/inputs.js';
import type { SafetyUseCases } from '../use-cases/safety.js';
import type { OnDemand } from '../use-cases/on-demand.js';
import type { NotificationUseCases } from '../use-cases/notification.js';
import type { NotificationSettings, Page } from '../ports.js';
import type { Info } from './info.js';
import { redocHtml, swaggerUiHtml, type SwaggerUiIntegrity } from './docs.js';
import { API_PREFIX, json, noContent, type ApiRequest, type ApiResponse } from './http.js';
import { chooseReportFormat, REPORT_CONTENT_TYPES, REPORT_FILE_NAMES } from './report-format.js';

export interface RouteDeps {
  experiments: ExperimentUseCases;
  trials: TrialUseCases;
  /** Loaded on first use (functions/wiring.ts): every call is awaited. */
  schedules: OnDemand<ScheduleUseCases>;
  report: OnDemand<ReportUseCases>;
  safety: OnDemand<SafetyUseCases>;
  notification: NotificationUseCases;
  /** `GET /info` (Kallisti's): version and identity-provider URLs. */
  info: Info;
  docsAssetsBase: string;
  /** SRI values of the Swagger UI files when `docsAssetsBase` is a CDN. */
  docsAssetsIntegrity?: SwaggerUiIntegrity;
}

export interface Route {
  method: string;
  /** Exactly as in openapi.json. */
  path: string;
  /** `admin`: halts and freeze windows (scope kallisti/admin or an admin group). */
  access: 'public' | 'read' | 'write' | 'admin';
  handle(request: ApiRequest): Promise<ApiResponse>;
}

/** The base path a client sees (e.g. `/prod` on an API Gateway stage), so links work behind the gateway. */
export function basePath(request: ApiRequest): string {
  const seen = request.event.requestContext?.path;
  const own = request.event.path;
  if (seen && own && seen.endsWith(own)) return seen.slice(0, seen.length - own.length);
  return '';
}

/** Where the API answers for this request: the base path plus Kallisti's `/api/v1` when the request came that way. */
export function apiRoot(request: ApiRequest): string {
  const own = request.event.path ?? '';
  return `${basePath(request)}${own === API_PREFIX || own.startsWith(`${API_PREFIX}/`) ? API_PREFIX : ''}`;
}

function linkHeader(request: ApiRequest, nextToken: string | undefined): Record<string, string> {
  if (!nextToken) return {};
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(request.query)) if (value !== undefined && name !== 'next_token') query.set(name, String(value));
  query.set('next_token', nextToken);
  return { Link: `<${basePath(request)}${request.event.path}?${query.toString()}>; rel="next"` };
}

/** A list answers a plain array (as Kallisti does); the next page is announced in a Link header. */
function page<T>(request: ApiRequest, result: Page<T>): ApiResponse {
  return json(200, result.items, linkHeader(request, result.nextToken));
}

function created(request: ApiRequest, resource: { id: string }, collection: string): ApiResponse {
  return json(201, resource, { Location: `${apiRoot(request)}${collection}/${resource.id}` });
}

function html(body: string): ApiResponse {
  return { statusCode: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body };
}

/** The same API at the root and under Kallisti's `/api/v1` (Swagger UI offers both). */
function servers(base: string): { url: string; description: string }[] {
  return [
    { url: base || '/', description: 'This API' },
    { url: `${base}${API_PREFIX}`, description: 'The same API under Kallisti\u2019s path prefix' },
  ];
}

/** The whole OpenAPI document (loaded on first request: cold starts read only the trimmed operation table). */
async function openapiDocument(request: ApiRequest): Promise<ApiResponse> {
  const { openapiDocument: document } = await import('./openapi-document.js');
  return json(200, { ...document, servers: servers(basePath(request)) });
}

/** No `limit` means every row (up to the list caps), as Kallisti answers. */
const limitOf = (request: ApiRequest): number | undefined => (request.query['limit'] === undefined ? undefined : Number(request.query['limit']));
const tokenOf = (request: ApiRequest): string | undefined => request.query['next_token'] as string | undefined;
const queryText = (request: ApiRequest, name: string): string | undefined => request.query[name] as string | undefined;

/** GET /report: XML by default, JUnit or JSON on request, built within the report limits. */
async function report(deps: RouteDeps, r: ApiRequest): Promise<ApiResponse> {
  const format = chooseReportFormat(queryText(r, 'format'), r.headers['accept']);
  const body = await deps.report.render(
    { trialId: queryText(r, 'trial-id'), experiment: queryText(r, 'experiment'), from: queryText(r, 'from'), to: queryText(r, 'to') },
    format,
  );
  return {
    statusCode: 200,
    headers: { 'Content-Type': REPORT_CONTENT_TYPES[format], 'Content-Disposition': `inline; filename="${REPORT_FILE_NAMES[format]}"`, Vary: 'Accept' },
    body,
  };
}

export function makeRoutes(deps: RouteDeps): Route[] {
  const { experiments, trials, schedules, safety } = deps;
  const expId = (r: ApiRequest) => r.params['experiment_id'] ?? '';
  const schedId = (r: ApiRequest) => r.params['schedule_id'] ?? '';
  return [
    { method: 'GET', path: '/health', access: 'public', handle: async () => json(200, { status: 'up' }) },
    { method: 'GET', path: '/info', access: 'public', handle: async () => json(200, deps.info) },
    // The docs, at our paths and at Kallisti's (`/swagger.json`, `/swagger/`, `/redoc/`).
    { method: 'GET', path: '/docs', access: 'public', handle: async (request) => html(swaggerUiHtml(deps.docsAssetsBase, `${basePath(request)}/openapi.json`, deps.docsAssetsIntegrity)) },
    { method: 'GET', path: '/swagger', access: 'public', handle: async (request) => html(swaggerUiHtml(deps.docsAssetsBase, `${basePath(request)}/openapi.json`, deps.docsAssetsIntegrity)) },
    { method: 'GET', path: '/redoc', access: 'public', handle: async (request) => html(redocHtml(`${basePath(request)}/openapi.json`)) },
    { method: 'GET', path: '/openapi.json', access: 'public', handle: openapiDocument },
    { method: 'GET', path: '/swagger.json', access: 'public', handle: openapiDocument },
    { method: 'GET', path: '/notification', access: 'read', handle: async () => json(200, await deps.notification.get()) },
    { method: 'PUT', path: '/notification', access: 'write', handle: async (r) => json(200, await deps.notification.put(r.body as NotificationSettings, r.caller)) },
    {
      method: 'POST',
      path: '/experiment',
      access: 'write',
      handle: async (r) => created(r, await experiments.create(r.body as ExperimentDefinition, r.caller), '/experiment'),
    },
    { method: 'GET', path: '/experiment', access: 'read', handle: async (r) => page(r, await experiments.list({ limit: limitOf(r), nextToken: tokenOf(r) })) },
    { method: 'GET', path: '/experiment/{experiment_id}', access: 'read', handle: async (r) => json(200, await experiments.get(r.params['experiment_id'] ?? '')) },
    {
      method: 'PUT',
      path: '/experiment/{experiment_id}',
      access: 'write',
      handle: async (r) => json(200, await experiments.replace(r.params['experiment_id'] ?? '', r.body as ExperimentDefinition, r.caller)),
    },
    {
      method: 'PATCH',
      path: '/experiment/{experiment_id}',
      access: 'write',
      handle: async (r) => json(200, await experiments.patch(r.params['experiment_id'] ?? '', r.body as Partial<ExperimentDefinition>, r.caller)),
    },
    {
      method: 'DELETE',
      path: '/experiment/{experiment_id}',
      access: 'write',
      handle: async (r) => {
        await experiments.delete(r.params['experiment_id'] ?? '', r.caller);
        return noContent();
      },
    },
    { method: 'POST', path: '/trial', access: 'write', handle: async (r) => created(r, await trials.create(r.body as TrialInput, r.caller), '/trial') },
    {
      method: 'GET',
      path: '/trial',
      access: 'read',
      handle: async (r) => page(
          r,
          await trials.list(
            { experiment: r.query['experiment'] as string | undefined, includeDeleted: r.query['include_deleted'] === true },
            { limit: limitOf(r), nextToken: tokenOf(r) },
          ),
        ),
    },
    { method: 'GET', path: '/trial/{trial_id}', access: 'read', handle: async (r) => json(200, await trials.get(r.params['trial_id'] ?? '')) },
    { method: 'PUT', path: '/trial/{trial_id}/stop', access: 'write', handle: async (r) => json(200, await trials.stop(r.params['trial_id'] ?? '')) },
    {
      method: 'POST',
      path: '/experiment/{experiment_id}/schedule',
      access: 'write',
      handle: async (r) => created(r, await schedules.create(expId(r), r.body as ScheduleDefinition, r.caller), `/experiment/${expId(r)}/schedule`),
    },
    {
      method: 'GET',
      path: '/experiment/{experiment_id}/schedule',
      access: 'read',
      handle: async (r) => page(r, await schedules.list(expId(r), { limit: limitOf(r), nextToken: tokenOf(r) })),
    },
    {
      method: 'GET',
      path: '/experiment/{experiment_id}/schedule/{schedule_id}',
      access: 'read',
      handle: async (r) => {
        const { view, nextToken } = await schedules.get(expId(r), schedId(r), { limit: limitOf(r), nextToken: tokenOf(r) });
        return json(200, view, linkHeader(r, nextToken));
      },
    },
    {
      method: 'PUT',
      path: '/experiment/{experiment_id}/schedule/{schedule_id}',
      access: 'write',
      handle: async (r) => json(200, await schedules.update(expId(r), schedId(r), r.body as ScheduleDefinition, r.caller, 'replace')),
    },
    {
      method: 'PATCH',
      path: '/experiment/{experiment_id}/schedule/{schedule_id}',
      access: 'write',
      handle: async (r) => json(200, await schedules.update(expId(r), schedId(r), r.body as Partial<ScheduleDefinition>, r.caller, 'patch')),
    },
    {
      method: 'DELETE',
      path: '/experiment/{experiment_id}/schedule/{schedule_id}',
      access: 'write',
      handle: async (r) => {
        await schedules.delete(expId(r), schedId(r), r.caller);
        return noContent();
      },
    },
    {
      method: 'GET',
      path: '/experiment/{experiment_id}/schedule/{schedule_id}/next',
      access: 'read',
      handle: async (r) => json(200, await schedules.next(expId(r), schedId(r), r.query['count'] === undefined ? 10 : Number(r.query['count']))),
    },
    {
      method: 'GET',
      path: '/experiment/{experiment_id}/schedule/{schedule_id}/firings',
      access: 'read',
      handle: async (r) => page(r, await schedules.firings(expId(r), schedId(r), { limit: limitOf(r) ?? 50, nextToken: tokenOf(r) })),
    },
    { method: 'POST', path: '/schedule/preview', access: 'read', handle: async (r) => json(200, await schedules.preview(r.body as PreviewRequest)) },
    { method: 'GET', path: '/report', access: 'read', handle: (r) => report(deps, r) },
    { method: 'PUT', path: '/safety/halt', access: 'admin', handle: async (r) => created(r, await safety.engageHalt(r.body as HaltInput, r.caller), '/safety/halt') },
    { method: 'GET', path: '/safety/halt', access: 'read', handle: async (r) => page(r, await safety.listHalts({ limit: limitOf(r) ?? 50, nextToken: tokenOf(r) })) },
    { method: 'DELETE', path: '/safety/halt/{halt_id}', access: 'admin', handle: async (r) => json(200, await safety.liftHalt(r.params['halt_id'] ?? '', r.caller)) },
    { method: 'POST', path: '/safety/freeze', access: 'admin', handle: async (r) => created(r, await safety.createFreeze(r.body as FreezeInput, r.caller), '/safety/freeze') },
    { method: 'GET', path: '/safety/freeze', access: 'read', handle: async (r) => page(r, await safety.listFreezes({ limit: limitOf(r) ?? 50, nextToken: tokenOf(r) })) },
    { method: 'DELETE', path: '/safety/freeze/{freeze_id}', access: 'admin', handle: async (r) => json(200, await safety.deleteFreeze(r.params['freeze_id'] ?? '', r.caller)) },
  ];
}
