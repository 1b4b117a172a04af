// The API's OpenAPI document (GET /openapi.json, fetched through api.js), drawn by Swagger UI,
// which docs.html loads from vendor/ (copied from the swagger-ui-dist npm package).
import { apiBase, service } from '../api.js';
import { $, boot, showError, status } from '../ui.js';

async function show() {
  $('#openapi-link').href = apiBase() + '/openapi.json';
  const spec = await service.openapi();
  if (typeof window.SwaggerUIBundle !== 'function') {
    status('문서 뷰어(vendor/swagger-ui)를 불러오지 못했습니다. `make deps`로 복사해 주세요.', 'error');
    return;
  }
  window.SwaggerUIBundle({
    spec,
    domNode: $('#api-docs'),
    deepLinking: true,
    validatorUrl: null, // never send the document to swagger.io's validator
    defaultModelsExpandDepth: 0,
    docExpansion: 'list',
  });
}

if (boot({ page: 'docs', protect: false })) {
  show().catch(showError);
}
