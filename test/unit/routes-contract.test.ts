import document from '../../openapi.json' with { type: 'json' };
import { makeApiHandler } from '../../functions/api/app.js';
import { openAccess } from '../../functions/api/identity.js';
import { HTTP_METHODS } from '../../functions/api/openapi.js';
import { makeRoutes, type RouteDeps } from '../../functions/api/routes.js';

// The route table only needs the use cases when a request is handled; none is here.
const routes = makeRoutes({ docsAssetsBase: '/assets' } as unknown as RouteDeps);
const paths = document.paths as Record<string, Record<string, unknown>>;

function documented(): string[] {
  return Object.entries(paths)
    .flatMap(([path, item]) => HTTP_METHODS.filter((method) => item[method] !== undefined).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe('routes and openapi.json', () => {
  it('has a route for every documented operation and documents every route', () => {
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(documented());
  });

  it('marks exactly the operations without security as public', () => {
    const publicOps = Object.entries(paths).flatMap(([path, item]) =>
      HTTP_METHODS.filter((m) => Array.isArray((item[m] as { security?: unknown[] } | undefined)?.security) && (item[m] as { security: unknown[] }).security.length === 0).map(
        (m) => `${m.toUpperCase()} ${path}`,
      ),
    );
    expect(routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.path}`).sort()).toEqual(publicOps.sort());
  });

  it('refuses to build an API with a route openapi.json does not describe', () => {
    const extra = [...routes, { method: 'POST', path: '/experiment/{experiment_id}/clone', access: 'write' as const, handle: async () => ({ statusCode: 200, body: '' }) }];
    expect(() => makeApiHandler({ routes: extra, authenticator: openAccess })).toThrow('Route POST /experiment/{experiment_id}/clone is not in openapi.json');
  });

  // A POST that only computes (the schedule preview stores nothing) is a read.
  const READ_ONLY_POSTS = ['POST /schedule/preview'];

  it('gives read access to GET and read-only POSTs, admin access to changes of /safety, and write access to everything else that is not public', () => {
    for (const route of routes.filter((r) => r.access !== 'public')) {
      const read = route.method === 'GET' || READ_ONLY_POSTS.includes(`${route.method} ${route.path}`);
      const expected = read ? 'read' : route.path.startsWith('/safety/') ? 'admin' : 'write';
      expect(`${route.method} ${route.path} ${route.access}`).toBe(`${route.method} ${route.path} ${expected}`);
    }
  });
});
