import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Subresource Integrity values (`sha384-…`) of the two Swagger UI files the deployed /docs page loads from the CDN. */
export interface SwaggerUiIntegrity {
  js: string;
  css: string;
}

export function sriOf(content: Buffer): string {
  return `sha384-${createHash('sha384').update(content).digest('base64')}`;
}

/**
 * Computed from the installed swagger-ui-dist, the exact version the page pins on
 * the CDN (package-lock.json), when the Lambda is bundled: a CDN copy that differs
 * by one byte is refused by the browser.
 */
export function swaggerUiIntegrity(): SwaggerUiIntegrity {
  const dist = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return {
    js: sriOf(readFileSync(path.join(dist, 'swagger-ui-bundle.js'))),
    css: sriOf(readFileSync(path.join(dist, 'swagger-ui.css'))),
  };
}
