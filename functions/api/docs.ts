/** The Swagger UI page; assets come from `assetsBase` (local files, or a pinned CDN copy on AWS). */
export function swaggerUiHtml(assetsBase: string, specUrl: string): string {
  const base = assetsBase.replace(/\/$/, '');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Kallisti Serverless API</title>
  <link rel="stylesheet" href="${base}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${base}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specUrl)}, dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: true });
  </script>
</body>
</html>
`;
}
