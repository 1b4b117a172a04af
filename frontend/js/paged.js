// A list shown by pages. The address bar names a page as the API's own links do,
// `?page=N&cursor=…` (page 1 is the bare address), so a reload or Back costs what following
// `next` costs. Only an old bookmark's bare `?page=N` makes the API skip to that page; its
// address is then replaced by the page's cursor address (the API's `self` link).
// A page found empty (e.g. its last item was just deleted) gives way to the last page.
import { link } from './api.js';
import { pager } from './render.js';
import { announce, showError } from './ui.js';

/** {page, cursor} of an API link or of an address's query string. */
export function pageOf(hrefOrSearch) {
  const query = hrefOrSearch.includes('?') ? hrefOrSearch.slice(hrefOrSearch.indexOf('?')) : hrefOrSearch;
  const params = new URLSearchParams(query);
  const raw = params.get('page');
  const page = raw && /^[1-9]\d{0,8}$/.test(raw) ? Number(raw) : 1;
  const cursor = params.get('cursor') || null;
  return { page, cursor };
}

/** This site's address for a page: what the address bar and the pager's links show. */
export function addressOf({ page, cursor }) {
  if (page <= 1 && !cursor) return location.pathname;
  const params = new URLSearchParams({ page: String(page) });
  if (cursor) params.set('cursor', cursor);
  return `${location.pathname}?${params}`;
}

const targetOf = (lnk) => (lnk ? pageOf(typeof lnk === 'string' ? lnk : lnk.href) : null);

export function pagedList({ list, pagerHost, perPage, label, fetchPage, render }) {
  let at = pageOf(location.search);

  /** Show page `target` ({page, cursor}); `mode` 'push' adds a history entry, else the address is kept in step. */
  async function load(target, mode = null, fallback = true) {
    list.setAttribute('aria-busy', 'true');
    try {
      const data = await fetchPage(target, perPage);
      if (!data.results.length && target.page > 1 && fallback) {
        return await load(targetOf(link(data, 'last')), mode || 'replace', false);
      }
      at = targetOf(link(data, 'self')) || target;
      const shown = pageOf(location.search);
      if (mode === 'push') history.pushState(at, '', addressOf(at));
      else if (mode === 'replace' || shown.page !== at.page || shown.cursor !== at.cursor) {
        history.replaceState(at, '', addressOf(at));
      }
      render(data);
      pagerHost.replaceChildren();
      const total = Math.max(Math.ceil(data.count / perPage), at.page + (data.next ? 1 : 0), 1);
      if (total > 1) {
        pagerHost.append(pager({
          page: at.page, total, count: data.count, label, href: addressOf,
          prev: targetOf(data.previous), next: targetOf(data.next),
          first: { page: 1, cursor: null }, last: targetOf(link(data, 'last')),
          go: (to) => load(to, 'push'),
        }));
      }
      if (mode === 'push') {
        // the pager link that had focus was just replaced: put the keyboard at the new items
        list.tabIndex = -1;
        list.focus({ preventScroll: true });
        list.scrollIntoView({ block: 'start' });
        announce(`${at.page}쪽을 불러왔어요.`);
      }
    } catch (err) {
      showError(err);
    } finally {
      list.removeAttribute('aria-busy');
    }
  }

  window.addEventListener('popstate', () => load(pageOf(location.search)));
  return {
    /** Show the page the address asks for (first load). */
    start: () => load(at),
    /** Load the current page again, in place (after a change to the list). */
    reload: () => load(at, 'replace'),
    /** Go back to the first page, in place. */
    first: () => load({ page: 1, cursor: null }, 'replace'),
  };
}
