// The API's OpenAPI document (GET /openapi.json, fetched through api.js), drawn by Swagger UI,
// which docs.html loads from vendor/ (copied from the swagger-ui-dist npm package).
//
// Swagger UI's markup is made to keep the site's accessibility rules (frontend/README.md) here:
// its colours by css/style.css, its structure by the plugin below, and the attributes no option
// or component reaches by fixUpViewer(); tests/browser/test_a11y.py holds all of it.
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

/** What no option or component reaches, set on the viewer's elements; run again whenever it
 * redraws (an element it draws anew has lost them). Each line names what axe-core found. */
function fixUpViewer(root) {
  const all = (selector) => root.querySelectorAll(selector);
  const labelBy = (field, label, id) => {
    if (!field || !label || field.hasAttribute('aria-labelledby')) return;
    label.id ||= id;
    field.setAttribute('aria-labelledby', label.id);
  };
  // select-name: the server picker is named by its visible title "Servers"
  labelBy(root.querySelector('select#servers'), root.querySelector('.servers-title'), 'servers-title');
  // heading-order: the document's title is an h1 under the page's own h1, above h3s: level 2
  for (const title of all('.info h1.title:not([aria-level])')) title.setAttribute('aria-level', '2');
  for (const op of all('.opblock[id]')) {
    // label, select-name (Try it out): a parameter's field is named by the parameter's name
    for (const row of op.querySelectorAll('tr[data-param-name]')) {
      const name = row.querySelector('.parameter__name');
      for (const field of row.querySelectorAll('.parameters-col_description :is(input, select, textarea)')) {
        labelBy(field, name, `${op.id}-${row.dataset.paramIn}-${row.dataset.paramName}`);
      }
    }
    // label (Try it out): the request body's editor is named by its section's heading
    labelBy(op.querySelector('textarea.body-param__text'),
      op.querySelector('.opblock-section-request-body .opblock-title'), `${op.id}-request-body`);
    // duplicate-id: the request's content type <select> and the <label> around it share one id
    for (const label of op.querySelectorAll('label[id]')) {
      if (label.querySelector(`[id="${label.id}"]`)) label.removeAttribute('id');
    }
  }
  // landmark-unique: each open operation's responses are an unnamed role="region" table; a table
  for (const table of all('table.responses-table[role="region"]')) table.removeAttribute('role');
  // scrollable-region-focusable: code blocks scroll past 400px, so the keyboard must reach them
  for (const code of all('.highlight-code > pre:not([tabindex])')) code.tabIndex = 0;
  // The Authorize dialog. button-name: its close button (an icon); label-content-name-mismatch:
  // its Authorize button is named "Apply credentials"; its value field is named "auth-bearer-value"
  // over its visible label "Value:". The visible words become the names.
  for (const close of all('.modal-ux .close-modal:not([aria-label])')) close.setAttribute('aria-label', 'Close');
  for (const named of all('.modal-ux .modal-btn[aria-label], .modal-ux input[id][aria-label]')) {
    if (named.tagName === 'BUTTON' || root.querySelector(`label[for="${named.id}"]`)) named.removeAttribute('aria-label');
  }
}

/** The Authorize dialog is a modal one on screen but not to the keyboard or a screen reader: it
 * is not named a dialog, Tab walks out of it into the page under its backdrop, and once closed
 * the focus is lost (on <body>). Here it is a named modal dialog; while it is open everything
 * else is inert, and on closing the focus goes back to the button that opened it. */
function modalDialogs(root) {
  let opener = null;
  let inert = [];
  root.addEventListener('click', (e) => {
    const button = e.target.closest('button');
    if (button && !button.closest('.modal-ux')) opener = button;
  }, true);
  return () => {
    const dialog = root.querySelector('.dialog-ux .modal-ux');
    if (dialog && !inert.length) {
      const title = dialog.querySelector('.modal-ux-header h3');
      if (title) title.id ||= 'dialog-title';
      dialog.setAttribute('role', 'dialog');
      dialog.setAttribute('aria-modal', 'true');
      if (title) dialog.setAttribute('aria-labelledby', title.id);
      for (let n = dialog; n !== document.body; n = n.parentElement) {
        for (const sibling of n.parentElement.children) {
          if (sibling !== n && !sibling.inert) { sibling.inert = true; inert.push(sibling); }
        }
      }
    } else if (!dialog && inert.length) {
      for (const n of inert) n.inert = false;
      inert = [];
      if (opener?.isConnected && (document.activeElement === document.body || !document.activeElement)) opener.focus();
    }
  };
}

async function show() {
  $('#openapi-link').href = apiBase() + '/openapi.json';
  const spec = await service.openapi();
  if (typeof window.SwaggerUIBundle !== 'function') {
    status('문서 뷰어(vendor/swagger-ui)를 불러오지 못했습니다. `make deps`로 복사해 주세요.', 'error');
    return;
  }
  const root = $('#api-docs');
  const dialogs = modalDialogs(root);
  new MutationObserver(() => { fixUpViewer(root); dialogs(); }).observe(root, { childList: true, subtree: true });
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
