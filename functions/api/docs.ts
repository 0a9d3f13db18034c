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
