/** Subresource Integrity values of the two Swagger UI files, when they come from a CDN. */
export interface SwaggerUiIntegrity {
  js: string;
  css: string;
}

const SRI = /^sha(256|384|512)-[A-Za-z0-9+/]+=*$/;

function integrityAttributes(value: string | undefined): string {
  if (value === undefined) return '';
  if (!SRI.test(value)) throw new Error(`Not a Subresource Integrity value: ${value}`);
  return ` integrity="${value}" crossorigin="anonymous"`;
}

/**
 * The Swagger UI page; assets come from `assetsBase` (local files, or a pinned CDN
 * copy on AWS, then with `integrity` so the browser refuses any other content).
 * Tokens given to Authorize are kept in memory only, never in localStorage.
 */
export function swaggerUiHtml(assetsBase: string, specUrl: string, integrity?: SwaggerUiIntegrity): string {
  const base = assetsBase.replace(/\/$/, '');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Kallisti Serverless API</title>
  <link rel="stylesheet" href="${base}/swagger-ui.css"${integrityAttributes(integrity?.css)}>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${base}/swagger-ui-bundle.js"${integrityAttributes(integrity?.js)}></script>
  <script>
    window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specUrl)}, dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: false });
  </script>
</body>
</html>
`;
}

/** ReDoc's standalone bundle, pinned (the page loads it from jsDelivr, locally too: ReDoc is not installed). */
export const REDOC_VERSION = '2.5.4';
/**
 * SHA-384 of `bundles/redoc.standalone.js` in the npm package redoc@2.5.4 (tarball integrity
 * sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==),
 * which jsDelivr serves unchanged: the browser refuses any other content. Change both together.
 */
export const REDOC_INTEGRITY = 'sha384-w447zOpYfw/1Tv/5AK9NfHTlQIqE3RVR6KY62jCyy9zNDgO64cMwGGP1Fj0zJVf5';

/** The ReDoc page Kallisti serves at `/redoc/`, reading the same document. */
export function redocHtml(specUrl: string): string {
  const escaped = specUrl.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Kallisti Serverless API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
  <redoc spec-url="${escaped}"></redoc>
  <script src="https://cdn.jsdelivr.net/npm/redoc@${REDOC_VERSION}/bundles/redoc.standalone.js"${integrityAttributes(REDOC_INTEGRITY)}></script>
</body>
</html>
`;
}
