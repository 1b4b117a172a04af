// The API's OpenAPI document (GET /openapi.json, fetched through api.js), drawn by Swagger UI,
// which docs.html loads from vendor/ (copied from the swagger-ui-dist npm package).
//
// Swagger UI's markup is made to keep the site's accessibility rules (frontend/README.md) here:
// its colours by css/style.css, its structure by the plugin below, and the two attributes no
// option or component reaches by labelViewer(); tests/browser/test_a11y.py holds all of it.
import { apiBase, service } from '../api.js';
import { $, boot, showError, status } from '../ui.js';

/** Swagger UI's plugin for this page: its own layout and link, changed where its markup breaks
 * the rules. `layout: 'DocsLayout'` selects the layout. */
const AccessiblePlugin = ({ React }) => {
  const h = React.createElement;
  // Swagger UI's BaseLayout, with the same parts in the same order, but one: it holds the
  // operations in a <main> of its own, inside the page's <main> (two main landmarks). Here that
  // is a <div>. (Its loading and failure screens are left out: the page hands it the document.)
  const DocsLayout = ({ getComponent, specSelectors: spec }) => {
    const part = (name) => h(getComponent(name, true));
    const Row = getComponent('Row');
    const Col = getComponent('Col');
    const row = (child, className) => h(Row, { className }, h(Col, { mobile: 12, desktop: 12 }, child));
    const hasServers = spec.servers()?.size > 0;
    const hasSchemes = spec.schemes()?.size > 0;
    const hasAuth = !!spec.securityDefinitions();
    const oas31 = spec.isOAS31() || spec.isOAS32?.();
    return h('div', { className: 'swagger-ui' },
      part('SvgAssets'),
      h(getComponent('VersionPragmaFilter'), {
        isSwagger2: spec.isSwagger2(), isOAS3: spec.isOAS3(), isOAS31: spec.isOAS31(),
        isOAS32: spec.isOAS32?.(), alsoShow: part('errors'),
      },
      part('errors'),
      h(Row, { className: 'information-container' }, h(Col, { mobile: 12 }, part('InfoContainer'))),
      hasServers || hasSchemes || hasAuth ? h('div', { className: 'scheme-container' },
        h(Col, { className: 'schemes wrapper', mobile: 12 },
          hasServers || hasSchemes ? h('div', { className: 'schemes-server-container' },
            hasServers ? part('ServersContainer') : null, hasSchemes ? part('SchemesContainer') : null) : null,
          hasAuth ? part('AuthorizeBtnContainer') : null)) : null,
      part('FilterContainer'),
      h('div', { id: 'operations', tabIndex: -1 },
        row(part('operations')),
        oas31 ? row(part('Webhooks'), 'webhooks-container') : null,
        row(part('Models')))));
  };
  return {
    components: { DocsLayout },
    wrapComponents: {
      // Each operation's row is one <button> (it opens the operation) holding a link to the
      // operation's address: a control inside a control, which screen readers and the keyboard
      // handle badly. The link is drawn without its address, so it is text; opening an
      // operation still puts its address in the URL (deepLinking).
      DeepLink: (Original) => (props) => h(Original, { ...props, enabled: false }),
    },
  };
};

/** What no option or component reaches: the server picker is named by its visible title, and
 * the document's title is a level-2 heading under the page's own h1. Applied again whenever the
 * viewer redraws (its elements may be new ones). */
function labelViewer(root) {
  const select = root.querySelector('select#servers');
  const title = root.querySelector('.servers-title');
  if (select && title && !select.hasAttribute('aria-labelledby')) {
    title.id = 'servers-title';
    select.setAttribute('aria-labelledby', 'servers-title');
  }
  const heading = root.querySelector('.info h1.title');
  if (heading && !heading.hasAttribute('aria-level')) heading.setAttribute('aria-level', '2');
}

async function show() {
  $('#openapi-link').href = apiBase() + '/openapi.json';
  const spec = await service.openapi();
  if (typeof window.SwaggerUIBundle !== 'function') {
    status('문서 뷰어(vendor/swagger-ui)를 불러오지 못했습니다. `make deps`로 복사해 주세요.', 'error');
    return;
  }
  const root = $('#api-docs');
  new MutationObserver(() => labelViewer(root)).observe(root, { childList: true, subtree: true });
  window.SwaggerUIBundle({
    spec,
    domNode: root,
    plugins: [AccessiblePlugin],
    layout: 'DocsLayout',
    deepLinking: true,
    validatorUrl: null, // never send the document to swagger.io's validator
    defaultModelsExpandDepth: 0,
    docExpansion: 'list',
  });
}

if (boot({ page: 'docs', protect: false })) {
  show().catch(showError);
}
