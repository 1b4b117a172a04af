// The one module that talks to the API: base URL, tokens, transparent refresh, error shapes.
//
// Tokens live in localStorage as `access`, `refresh` and `user` (JSON), like the original
// client, so a user logged in there stays logged in here. An access token whose `exp` has
// passed (or that cannot be decoded) is refreshed once before the request; a 401 on a request
// gets one refresh and one retry. When that is not enough the session is over: tokens are
// cleared and the browser goes to the login page.

const KEY = { access: 'access', refresh: 'refresh', user: 'user' };
const FLASH_KEY = 'stove.flash';
const TIMEOUT_MS = 60000; // an OpenAI answer may take ~20 s plus a retry
const EXPIRY_SKEW_S = 20; // refresh a little early so a token does not expire in flight

export const NETWORK_MESSAGE =
  '서버에 연결할 수 없습니다. 인터넷 연결을 확인하거나 잠시 후 다시 시도해 주세요.';

export class ApiError extends Error {
  constructor(message, { status = 0, code = '', fields = null, retryAfter = null, requestId = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0: the request never got an HTTP answer
    this.code = code; // the server's `Code`, or NetworkError / Timeout / SessionEnded
    this.fields = fields; // the server's `Fields`: {field name: message}
    this.retryAfter = retryAfter; // seconds, from Retry-After
    this.requestId = requestId; // the server's id of this request, for the user to quote
  }
}

export class ConfigError extends Error {}

// -- configuration ---------------------------------------------------------------------------
export function apiBase() {
  const cfg = window.STOVE_CONFIG;
  const url = cfg && typeof cfg.apiBaseUrl === 'string' ? cfg.apiBaseUrl.trim() : '';
  if (!/^https?:\/\//i.test(url)) {
    throw new ConfigError(
      '설정 파일(config.js)을 불러오지 못했거나 API 주소가 비어 있습니다. ' +
        'frontend/config.example.js를 config.js로 복사하고 apiBaseUrl에 API 주소를 적어 주세요.',
    );
  }
  return url.replace(/\/+$/, '');
}

// A path of the API, or an absolute link the API gave us (`next`, `_links[].href`). A link to
// another origin is not followed as-is, so the token never leaves for a host we were not
// configured with: its path and query are taken against the configured base instead.
function resolve(pathOrUrl) {
  const base = apiBase();
  if (!/^https?:\/\//i.test(pathOrUrl)) return base + (pathOrUrl.startsWith('/') ? '' : '/') + pathOrUrl;
  const link = new URL(pathOrUrl);
  if (link.origin === new URL(base).origin) return link.href;
  return base + link.pathname + link.search;
}

// -- session storage -------------------------------------------------------------------------
function read(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage disabled: behave as logged out
  }
}

function write(key, value) {
  if (value === undefined || value === null) localStorage.removeItem(key);
  else localStorage.setItem(key, value);
}

export function saveSession({ access, refresh, user }) {
  write(KEY.access, access);
  write(KEY.refresh, refresh);
  if (user) write(KEY.user, JSON.stringify(user));
}

export function saveUser(user) {
  const merged = { ...(currentUser() || {}), ...user };
  write(KEY.user, JSON.stringify(merged));
}

export function clearSession() {
  for (const key of Object.values(KEY)) {
    try {
      localStorage.removeItem(key);
    } catch {
      /* nothing to clear */
    }
  }
}

export function currentUser() {
  try {
    const user = JSON.parse(read(KEY.user) || 'null');
    return user && typeof user === 'object' ? user : null;
  } catch {
    return null;
  }
}

export function isLoggedIn() {
  return Boolean(read(KEY.refresh) || read(KEY.access));
}

/** A message for the next page to show once (e.g. why the user landed on the login page). */
export function setFlash(message) {
  try {
    sessionStorage.setItem(FLASH_KEY, message);
  } catch {
    /* best effort */
  }
}

export function takeFlash() {
  try {
    const message = sessionStorage.getItem(FLASH_KEY);
    sessionStorage.removeItem(FLASH_KEY);
    return message;
  } catch {
    return null;
  }
}

/** Where the login page should send the user back to: same-site pages only. */
export function safeNext(next) {
  // Browsers drop tabs and newlines from URLs, so '/\t/evil.example' would become
  // '//evil.example': refuse control characters and spaces outright, then insist on this origin.
  if (typeof next !== 'string' || !/^\/(?!\/)[^\\\x00-\x20\x7f]*$/.test(next)) return null;
  let url;
  try {
    url = new URL(next, location.origin);
  } catch {
    return null;
  }
  if (url.origin !== location.origin) return null;
  return /(^|\/)(login|join)\.html/.test(url.pathname) ? null : url.pathname + url.search + url.hash;
}

export function goToLogin(message) {
  if (message) setFlash(message);
  const here = location.pathname + location.search;
  const loginUrl = new URL('login.html', location.href);
  if (safeNext(here)) loginUrl.searchParams.set('next', here);
  location.assign(loginUrl.href);
}

// -- tokens ----------------------------------------------------------------------------------
/** The `exp` claim (seconds) of a JWT, or null if it cannot be read. */
export function tokenExpiry(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(atob(part.padEnd(Math.ceil(part.length / 4) * 4, '='))).exp;
    return typeof exp === 'number' ? exp : null;
  } catch {
    return null;
  }
}

function isStale(token) {
  const exp = tokenExpiry(token);
  return exp === null || exp - EXPIRY_SKEW_S <= Date.now() / 1000;
}

function sessionEnded(message) {
  return new ApiError(message || '로그인이 만료되었습니다. 다시 로그인해 주세요.',
                      { status: 401, code: 'SessionEnded' });
}

let refreshing = null;

/**
 * A fresh access token in place of `stale`. One refresh at a time per page; across tabs a Web
 * Lock (where available) makes the second tab reuse the first one's result, because a refresh
 * token used twice ends the whole session on the server.
 */
function refreshAccess(stale) {
  if (!refreshing) {
    const run = () => doRefresh(stale);
    const locked = navigator.locks && navigator.locks.request
      ? navigator.locks.request('stove-token-refresh', run)
      : run();
    refreshing = locked.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function doRefresh(stale) {
  const current = read(KEY.access);
  if (current && current !== stale && !isStale(current)) return current; // another tab did it
  const refresh = read(KEY.refresh);
  if (!refresh) throw sessionEnded('로그인이 필요합니다.');
  const res = await send('POST', resolve('/rest-auth/token/refresh'), { refresh }, null);
  if (res.ok) {
    const body = await readJson(res);
    if (body && typeof body.access === 'string') {
      write(KEY.access, body.access);
      if (typeof body.refresh === 'string') write(KEY.refresh, body.refresh);
      return body.access;
    }
  }
  if (res.status === 400 || res.status === 401) throw sessionEnded();
  throw await errorOf(res); // the server is down or busy: keep the tokens, say so
}

// -- requests --------------------------------------------------------------------------------
async function send(method, url, body, token, timeoutMs = TIMEOUT_MS) {
  const headers = { Accept: 'application/json' };
  let payload;
  if (body !== undefined && body !== null) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (token) headers.Authorization = 'Bearer ' + token;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(url, { method, headers, body: payload, mode: 'cors', credentials: 'omit',
                              signal: controller.signal });
  } catch {
    if (controller.signal.aborted) {
      throw new ApiError('서버가 너무 오래 응답하지 않습니다. 잠시 후 다시 시도해 주세요.', { code: 'Timeout' });
    }
    // fetch rejects alike for no network, a server that is down and a CORS refusal
    throw new ApiError(NETWORK_MESSAGE, { code: 'NetworkError' });
  } finally {
    clearTimeout(timer);
  }
}

async function readJson(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const STATUS_MESSAGES = {
  400: '요청을 처리할 수 없습니다. 입력한 내용을 확인해 주세요.',
  401: '로그인이 필요합니다.',
  403: '이 작업을 할 권한이 없습니다.',
  404: '찾는 내용이 없습니다. 이미 삭제되었을 수 있습니다.',
  409: '다른 변경과 충돌했습니다. 새로 고친 뒤 다시 시도해 주세요.',
  413: '보낸 내용이 너무 큽니다.',
  429: '요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.',
  502: '답변을 만드는 서버가 올바르게 응답하지 않았습니다. 잠시 후 다시 시도해 주세요.',
  503: '서버가 잠시 바쁩니다. 잠시 후 다시 시도해 주세요.',
  504: '답변 서버가 제시간에 응답하지 않았습니다. 잠시 후 다시 시도해 주세요.',
};

async function errorOf(res) {
  const body = await readJson(res);
  const serverMessage = body && (body.Message || body.message || body.detail);
  const message = typeof serverMessage === 'string' && serverMessage.trim()
    ? serverMessage
    : STATUS_MESSAGES[res.status] || `서버에서 오류가 발생했습니다. (오류 코드 ${res.status})`;
  const fields = body && body.Fields && typeof body.Fields === 'object' ? body.Fields : null;
  const retry = parseInt(res.headers.get('Retry-After') || '', 10);
  const requestId = (body && typeof body.RequestId === 'string' && body.RequestId)
    || res.headers.get('X-Request-Id') || null;
  return new ApiError(message, { status: res.status, code: (body && body.Code) || '', fields,
                                 retryAfter: Number.isFinite(retry) ? retry : null, requestId });
}

async function result(res, raw = false) {
  if (!res.ok) throw await errorOf(res);
  if (raw) return { text: await res.text(), headers: res.headers };
  if (res.status === 204) return null;
  const body = await readJson(res);
  if (body === undefined) throw new ApiError('서버의 응답을 읽을 수 없습니다.', { status: res.status });
  return body;
}

/**
 * Call the API. `path` is a path (`/quote`) or a link the API gave. With `auth` (the default)
 * the access token is sent, refreshed when stale, and a lost session clears the tokens and
 * sends the user to log in; `endSession: false` only clears them (logging out uses it).
 */
export async function request(method, path, { body, auth = true, endSession = true, timeoutMs, raw = false } = {}) {
  const url = resolve(path);
  if (!auth) return result(await send(method, url, body, null, timeoutMs), raw);
  try {
    let access = read(KEY.access);
    let refreshed = false;
    if (!access && !read(KEY.refresh)) throw sessionEnded('로그인이 필요합니다.');
    if (!access || isStale(access)) {
      access = await refreshAccess(access);
      refreshed = true;
    }
    let res = await send(method, url, body, access, timeoutMs);
    if (res.status === 401 && !refreshed) {
      access = await refreshAccess(access);
      res = await send(method, url, body, access, timeoutMs);
    }
    if (res.status === 401) throw sessionEnded((await errorOf(res)).message);
    return await result(res, raw);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'SessionEnded') {
      clearSession();
      if (endSession) goToLogin(err.message);
    }
    throw err;
  }
}

/** The `_links` entry of a resource with this `desc`, or null. */
export function link(resource, desc) {
  const links = resource && Array.isArray(resource._links) ? resource._links : [];
  return links.find((l) => l && l.desc === desc) || null;
}

/** `?per-page=…&page=…[&cursor=…]` for a page given as {page, cursor} (or a bare number). */
function pageQuery(at, perPage) {
  const { page = 1, cursor = null } = typeof at === 'object' && at ? at : { page: at };
  const params = new URLSearchParams({ 'per-page': String(perPage), page: String(page) });
  if (cursor) params.set('cursor', cursor);
  return `?${params}`;
}

const pageRequest = (path, at, perPage) =>
  request('GET', typeof at === 'string' ? at : path + pageQuery(at, perPage));

// -- the API, by resource ---------------------------------------------------------------------
export const accounts = {
  async login(email, password) {
    const data = await request('POST', '/rest-auth/login', { body: { email, password }, auth: false });
    saveSession(data);
    return data;
  },
  async join(fields) {
    const data = await request('POST', '/rest-auth/join', { body: fields, auth: false });
    saveSession(data);
    return data;
  },
  /** Revoke the session on the server; logged out here whatever the server said. */
  async logout() {
    try {
      if (isLoggedIn()) await request('POST', '/rest-auth/logout', { endSession: false });
    } catch {
      /* the tokens were dead already, or the server is unreachable: forget them anyway */
    } finally {
      clearSession();
    }
  },
  async profile() {
    const data = await request('GET', '/rest-auth/profile');
    saveUser({ id: data.id, pk: data.id, email: data.email, nickname: data.nickname, is_admin: data.is_admin });
    return data;
  },
  async updateProfile(fields) {
    const data = await request('PUT', '/rest-auth/profile', { body: fields });
    saveUser({ nickname: data.nickname, is_admin: data.is_admin });
    return data;
  },
  async deleteAccount(password) {
    await request('DELETE', '/rest-auth/profile', { body: { password } });
    clearSession();
  },
};

const chatPath = (id) => '/chat/model/' + encodeURIComponent(id);

/** The URL of an export's next part, from its `Link: <…>; rel="next"` header. */
function nextLink(header) {
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header || '');
  return match ? match[1] : null;
}

export const chat = {
  /** The line for `input`; `exclude` lists line ids already shown for it ("another line"). */
  ask: (input, exclude = []) =>
    request('POST', '/chat/api', { body: exclude.length ? { input, exclude } : { input } }),
  /** A page of history: {page, cursor} as the API's links name it, or a link to follow. */
  history: (at, perPage = 5) => pageRequest('/chat/model', at, perPage),
  /** Chats whose input or line contains the words; follow `next` (a link) for more. */
  search: (q, nextHref = null, perPage = 10) =>
    request('GET', nextHref || `/chat/model?q=${encodeURIComponent(q)}&per-page=${perPage}`),
  remove: (id) => request('DELETE', chatPath(id)),
  removeAll: () => request('DELETE', '/chat/model'),
  /** 👍 1, 👎 -1, none 0: the saved chat. */
  rate: (id, value) => request('PUT', chatPath(id) + '/rating', { body: { value } }),
  share: (id, includeInput) => request('POST', chatPath(id) + '/share', { body: { include_input: includeInput } }),
  /**
   * Everything, as one file's content: the export's parts fetched in turn (each at most 1,000
   * chats) and joined. `progress(partsSoFar)` is called after each part.
   */
  async exportAll(format, progress = () => {}) {
    let href = `/chat/export?format=${format}`;
    if (format === 'json') {
      const whole = { chats: [], bookmarks: [] };
      for (let n = 1; href; n += 1) {
        const part = await request('GET', href);
        whole.chats.push(...part.chats);
        whole.bookmarks.push(...part.bookmarks);
        href = part.next;
        progress(n);
      }
      return JSON.stringify(whole, null, 2);
    }
    const texts = [];
    for (let n = 1; href; n += 1) {
      const { text, headers } = await request('GET', href, { raw: true });
      const body = text.replace(/^\uFEFF/, ''); // (decoding drops it anyway)
      texts.push(n === 1 ? body : body.replace(/^[^\r\n]*\r?\n/, '')); // one header row
      href = nextLink(headers.get('Link'));
      progress(n);
    }
    return '\uFEFF' + texts.join(''); // the BOM, once: Excel then reads Korean as UTF-8
  },
};

export const keep = {
  bookmarks: (at, perPage = 5) => pageRequest('/chat/bookmarks', at, perPage),
  bookmark: (lineId) => request('PUT', '/chat/bookmarks/' + encodeURIComponent(lineId)),
  unbookmark: (lineId) => request('DELETE', '/chat/bookmarks/' + encodeURIComponent(lineId)),
  shares: (at, perPage = 5) => pageRequest('/chat/shares', at, perPage),
  revoke: (shareId) => request('DELETE', '/chat/shares/' + encodeURIComponent(shareId)),
  /** A shared card, as anyone with the link sees it (no login). */
  shared: (shareId) => request('GET', '/share/' + encodeURIComponent(shareId), { auth: false }),
};

export const admin = {
  lineStats: (at, perPage = 10, sort = 'down') =>
    request('GET', typeof at === 'string' ? at : `/corpus/stats${pageQuery(at, perPage)}&sort=${encodeURIComponent(sort)}`),
};

export const service = {
  openapi: () => request('GET', '/openapi.json', { auth: false }),
};

export const board = {
  list: (at, perPage = 10) => pageRequest('/quote', at, perPage),
  get: (id) => request('GET', '/quote/' + encodeURIComponent(id)),
  create: (fields) => request('POST', '/quote', { body: fields }),
  update: (id, fields) => request('PUT', '/quote/' + encodeURIComponent(id), { body: fields }),
  /** Follow one of a proposal's `_links` (update, delete, apply, withdraw). */
  follow: (lnk, body) => request(lnk.method || 'GET', lnk.href, { body }),
};
