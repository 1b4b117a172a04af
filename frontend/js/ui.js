// Page plumbing shared by every page: boot (config, login guard, header), messages, forms,
// a confirm dialog and small DOM helpers. Server text is only ever set as text, never as HTML.
import {
  ApiError, ConfigError, accounts, apiBase, currentUser, goToLogin, isLoggedIn, setFlash, takeFlash,
} from './api.js';

/** Create an element: el('a', {href: '…', class: 'x'}, 'text', child, …). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

const NAV = [
  { page: 'chat', href: 'index.html', label: '대화' },
  { page: 'history', href: 'history.html', label: '기록' },
  { page: 'my-lines', href: 'my-lines.html', label: '내 명대사' },
  { page: 'board', href: 'board.html', label: '명대사 게시판' },
  { page: 'profile', href: 'profile.html', label: '내 정보' },
];

function renderHeader(page, loggedIn) {
  const header = $('#site-header');
  if (!header) return;
  const brand = el('a', { class: 'brand', href: loggedIn ? 'index.html' : 'login.html' },
    el('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '⚾'),
    el('span', {}, '스토브리그 명대사'));
  header.replaceChildren(brand);
  if (!loggedIn) return;
  const user = currentUser();
  const items = NAV.map(({ page: p, href, label }) =>
    el('li', {}, el('a', { href, 'aria-current': p === page ? 'page' : null }, label)));
  const logout = el('button', { type: 'button', class: 'link-button', id: 'logout-button' }, '로그아웃');
  logout.addEventListener('click', async () => {
    logout.disabled = true;
    await accounts.logout();
    setFlash('로그아웃했습니다.');
    location.assign('login.html');
  });
  items.push(el('li', {}, logout));
  header.append(
    el('nav', { class: 'site-nav', 'aria-label': '주 메뉴' }, el('ul', {}, items)),
    el('p', { class: 'whoami', id: 'whoami' }, user && user.nickname ? `${user.nickname}님` : ''),
  );
}

/** The footer every page shares: where the API's documentation is. */
function renderFooter() {
  if ($('#site-footer')) return;
  document.body.append(el('footer', { class: 'site-footer', id: 'site-footer' },
    el('a', { href: 'docs.html' }, 'API 문서')));
}

/** Update the nickname shown in the header (after a profile load or change). */
export function showWhoami() {
  const user = currentUser();
  const node = $('#whoami');
  if (node) node.textContent = user && user.nickname ? `${user.nickname}님` : '';
}

/**
 * Start a page: check the config, send logged-out users of protected pages to log in, draw the
 * header, show a message left by the previous page. Returns false when the page must not run.
 */
export function boot({ page, protect = true }) {
  installCrashHandler();
  renderFooter();
  try {
    apiBase();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    renderHeader(page, false);
    const main = $('#main');
    main.replaceChildren(el('h1', {}, '설정이 필요합니다'), el('p', { class: 'notice error', role: 'alert' }, err.message));
    document.documentElement.classList.add('ready');
    return false;
  }
  if (protect && !isLoggedIn()) {
    goToLogin('로그인이 필요합니다.');
    return false;
  }
  renderHeader(page, protect);
  addAnnouncer();
  if (protect) {
    // logged out in another tab (its logout clears the shared storage): follow it here
    window.addEventListener('storage', (e) => {
      if ((e.key === null || e.key === 'refresh') && !isLoggedIn()) goToLogin('다른 창에서 로그아웃했습니다.');
    });
  }
  const flash = takeFlash();
  if (flash) status(flash);
  document.documentElement.classList.add('ready');
  return true;
}

let crashHandlerInstalled = false;

function installCrashHandler() {
  if (crashHandlerInstalled) return;
  crashHandlerInstalled = true;
  const report = (reason) => {
    if (reason instanceof ApiError && reason.code === 'SessionEnded') return; // on its way to login
    const message = reason instanceof ApiError ? reason.message
      : '화면을 그리는 중에 문제가 생겼습니다. 새로 고침해 보세요.';
    status(message, 'error');
    document.documentElement.classList.add('ready');
  };
  window.addEventListener('error', (e) => report(e.error));
  window.addEventListener('unhandledrejection', (e) => report(e.reason));
}

// -- messages ----------------------------------------------------------------------------------
/**
 * Show a page-level message in the page's live region (`kind`: info, success, error); for an
 * error from the server, its request id goes under the message.
 */
export function status(message, kind = 'info', err = null) {
  const region = $('#page-status');
  if (!region) return;
  region.className = `notice ${kind}`;
  region.hidden = !message;
  // polite for news, assertive for errors; the region exists from page load so it is announced
  region.setAttribute('aria-live', kind === 'error' ? 'assertive' : 'polite');
  region.replaceChildren(...[message, requestIdNote(err)].filter(Boolean));
  if (kind === 'error') region.scrollIntoView({ block: 'nearest' });
}

function addAnnouncer() {
  if ($('#announcer')) return;
  // Exists from page load: screen readers only announce changes to a live region they know.
  const region = el('div', { id: 'announcer', class: 'visually-hidden', role: 'status',
                             'aria-live': 'polite', 'aria-atomic': 'true' });
  ($('#main') || document.body).append(region);
}

let announcement = null;

/**
 * Tell screen-reader users something that happened out of their focus (an answer arrived,
 * a page loaded), politely: after what they are hearing now. Invisible on screen.
 */
export function announce(message) {
  addAnnouncer();
  const region = $('#announcer');
  clearTimeout(announcement);
  region.textContent = '';
  // set in a later task, so a message equal to the last one is still a change and is read again
  announcement = setTimeout(() => { region.textContent = message; }, 50);
}

/**
 * "요청 ID: …" for an error the server answered, so the user can quote it and whoever runs the
 * site can find that request in the logs; null when there is none (e.g. no answer at all).
 */
export function requestIdNote(err) {
  if (!(err instanceof ApiError) || !err.requestId) return null;
  return el('small', { class: 'request-id' }, '요청 ID: ', el('code', {}, err.requestId));
}

/** The plain-words text of any error: the server's Message, plus when to retry. */
export function errorText(err) {
  if (err instanceof ApiError) {
    if (err.retryAfter && err.status === 429) return `${err.message} (약 ${err.retryAfter}초 뒤에 다시 시도할 수 있습니다.)`;
    return err.message;
  }
  return '알 수 없는 문제가 생겼습니다. 새로 고침한 뒤 다시 시도해 주세요.';
}

/** Report an error at page level; a lost session is already on its way to the login page. */
export function showError(err) {
  if (err instanceof ApiError && err.code === 'SessionEnded') return;
  if (!(err instanceof ApiError)) console.error(err);
  status(errorText(err), 'error', err);
}

// -- forms -------------------------------------------------------------------------------------
function errorSlot(form, input) {
  let slot = input.id && form.querySelector(`#${input.id}-error`);
  if (!slot) {
    slot = el('p', { class: 'field-error', id: `${input.id || input.name}-error` });
    input.insertAdjacentElement('afterend', slot);
  }
  const described = new Set((input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean));
  described.add(slot.id);
  input.setAttribute('aria-describedby', [...described].join(' '));
  return slot;
}

export function clearFormErrors(form) {
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
  const summary = form.querySelector('.form-message');
  if (summary) {
    summary.textContent = '';
    summary.className = 'form-message';
  }
}

/** Show a message in the form's own live region (`kind`: error or success; `err`: see status). */
export function formMessage(form, message, kind = 'error', err = null) {
  const summary = form.querySelector('.form-message');
  if (!summary) return status(message, kind, err);
  summary.className = `form-message ${kind}`;
  summary.replaceChildren(...[message, requestIdNote(err)].filter(Boolean));
}

/** Show an error on a form: the server's Message on top, each of its Fields at its input. */
export function showFormError(form, err) {
  clearFormErrors(form);
  if (err instanceof ApiError && err.code === 'SessionEnded') return;
  if (!(err instanceof ApiError)) console.error(err);
  const unplaced = [];
  let first = null;
  for (const [name, message] of Object.entries((err && err.fields) || {})) {
    const input = form.elements.namedItem(name);
    if (input && input.nodeType === 1) {
      input.setAttribute('aria-invalid', 'true');
      errorSlot(form, input).textContent = message;
      first = first || input;
    } else {
      unplaced.push(`${name}: ${message}`);
    }
  }
  formMessage(form, [errorText(err), ...unplaced].join(' '), 'error', err);
  if (first) first.focus();
}

export function setFieldError(form, name, message) {
  const input = form.elements.namedItem(name);
  input.setAttribute('aria-invalid', 'true');
  errorSlot(form, input).textContent = message;
  input.focus();
}

/**
 * Wire a form: Enter submits (Ctrl/⌘+Enter in a textarea), the submit button is disabled and
 * the form marked busy while `handler(values, form)` runs; errors land on the form.
 */
export function onSubmit(form, handler) {
  const button = form.querySelector('[type="submit"]');
  for (const area of form.querySelectorAll('textarea')) {
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (form.getAttribute('aria-busy') === 'true') return;
    clearFormErrors(form);
    form.setAttribute('aria-busy', 'true');
    if (button) button.disabled = true;
    try {
      await handler(Object.fromEntries(new FormData(form)), form);
    } catch (err) {
      showFormError(form, err);
    } finally {
      form.removeAttribute('aria-busy');
      if (button) button.disabled = false;
    }
  });
}

// -- removing an item from a list -------------------------------------------------------------
/**
 * `button` removes its item from `list`: `remove()` asks the API, `redraw()` shows the list
 * again, and the keyboard stays where it was: on the button (matching `selector`) of the item
 * that took this one's place, or on the heading. On failure the button works again.
 */
export async function removeFromList(button, list, selector, { remove, done, redraw }) {
  button.disabled = true;
  const index = [...list.children].findIndex((li) => li.contains(button));
  try {
    await remove();
    status(done, 'success');
    await redraw();
    const buttons = list.querySelectorAll(selector);
    (buttons[Math.min(index, buttons.length - 1)] || $('h1')).focus();
  } catch (err) {
    button.disabled = false;
    showError(err);
  }
}

// -- confirm dialog ----------------------------------------------------------------------------
/** Ask before something that cannot be undone; resolves true only on the confirm button. */
export function confirmDialog({ title, message, confirmLabel = '확인', cancelLabel = '취소' }) {
  return new Promise((resolve) => {
    const confirmButton = el('button', { type: 'submit', value: 'confirm', class: 'button danger' }, confirmLabel);
    const cancelButton = el('button', { type: 'submit', value: 'cancel', class: 'button secondary' }, cancelLabel);
    const dialog = el('dialog', { class: 'confirm-dialog', 'aria-labelledby': 'confirm-title',
                                  'aria-describedby': 'confirm-message' },
      el('form', { method: 'dialog' },
        el('h2', { id: 'confirm-title' }, title),
        el('p', { id: 'confirm-message' }, message),
        el('div', { class: 'actions' }, cancelButton, confirmButton)));
    const opener = document.activeElement;
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(dialog.returnValue === 'confirm');
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelButton.focus(); // the safe choice has focus: Enter does not destroy anything
  });
}

// -- formatting --------------------------------------------------------------------------------
const dateFormat = new Intl.DateTimeFormat('ko-KR', { dateStyle: 'medium', timeStyle: 'short' });

export function formatDate(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
}

export function time(iso) {
  return el('time', { datetime: iso }, formatDate(iso));
}

export function episodeLabel(scene) {
  return Number.isInteger(scene) ? `${scene}회` : '회차 미상';
}

