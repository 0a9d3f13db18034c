import document from '../../openapi.json' with { type: 'json' };

/**
 * The whole openapi.json, as `GET /openapi.json` serves it. Imported on demand
 * (`await import(…)`), so a Lambda cold start does not load 80 KB of descriptions
 * and examples that only Swagger UI reads.
 */
export const openapiDocument = document as Record<string, unknown>;
