import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { swaggerUiHtml } from '../../functions/api/docs.js';
import { BUILD_DEFINES, buildOptions } from '../../lib/bundling.js';
import { swaggerUiIntegrity } from '../../lib/swagger-ui-integrity.js';

const dist = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const sha384 = (file: string) => `sha384-${createHash('sha384').update(readFileSync(path.join(dist, file))).digest('base64')}`;

describe('Swagger UI page', () => {
  it('computes SRI hashes from the installed swagger-ui-dist, and bundles them into the Lambda', () => {
    const integrity = swaggerUiIntegrity();
    expect(integrity).toEqual({ js: sha384('swagger-ui-bundle.js'), css: sha384('swagger-ui.css') });
    expect(JSON.parse(BUILD_DEFINES['KALLISTI_SWAGGER_UI_INTEGRITY'] as string)).toEqual(integrity);
    expect(buildOptions('functions/api/lambda.ts', '/tmp/out').define).toBe(BUILD_DEFINES);
  });

  it('loads CDN assets with integrity and crossorigin, and never persists tokens', () => {
    const integrity = swaggerUiIntegrity();
    const html = swaggerUiHtml('https://cdn.example.com/swagger-ui-dist@5', '/prod/openapi.json', integrity);
    expect(html).toContain(`<script src="https://cdn.example.com/swagger-ui-dist@5/swagger-ui-bundle.js" integrity="${integrity.js}" crossorigin="anonymous"></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="https://cdn.example.com/swagger-ui-dist@5/swagger-ui.css" integrity="${integrity.css}" crossorigin="anonymous">`);
    expect(html).toContain('persistAuthorization: false');
    expect(html).not.toContain('persistAuthorization: true');
  });

  it('serves local assets without integrity attributes, and refuses a malformed hash', () => {
    expect(swaggerUiHtml('/docs/assets/', '/openapi.json')).not.toContain('integrity=');
    expect(() => swaggerUiHtml('https://cdn.example.com', '/openapi.json', { js: 'sha384-"><script>', css: 'x' })).toThrow('Not a Subresource Integrity value');
  });
});
