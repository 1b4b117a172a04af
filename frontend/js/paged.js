// A list shown by pages: loads a page by number or by following the API's next/previous
// links, keeps the address bar (?page=N) and the back button in step, and falls back to the
// last page when the one asked for is past the end (e.g. after deleting its last item).
import { pager } from './render.js';
import { announce, queryInt, showError } from './ui.js';

export function pagedList({ list, pagerHost, perPage, label, fetchPage, render }) {
  let page = queryInt('page');

  /** Load a page by number, or by following `href`; `mode` says how the address bar follows. */
  async function load(target, href = null, mode = null) {
    list.setAttribute('aria-busy', 'true');
    try {
      const data = await fetchPage(href || target, perPage);
      const last = Math.max(1, Math.ceil(data.count / perPage));
      if (!data.results.length && target > last) return await load(last, null, 'replace');
      page = target;
      const url = page > 1 ? `?page=${page}` : location.pathname;
      if (mode === 'push') history.pushState({ page }, '', url);
      else if (mode === 'replace') history.replaceState({ page }, '', url);
      render(data);
      pagerHost.replaceChildren();
      if (data.count > perPage || page > 1) {
        pagerHost.append(pager({ page, perPage, data, label, go: (to, link) => load(to, link, 'push') }));
      }
      if (mode === 'push') {
        // the pager link that had focus was just replaced: put the keyboard at the new items
        list.tabIndex = -1;
        list.focus({ preventScroll: true });
        list.scrollIntoView({ block: 'start' });
        announce(`${page}쪽을 불러왔어요.`);
      }
    } catch (err) {
      showError(err);
    } finally {
      list.removeAttribute('aria-busy');
    }
  }

  window.addEventListener('popstate', () => load(queryInt('page')));
  return {
    /** Show the page the address asks for (first load). */
    start: () => load(page),
    /** Load the current page again, in place (after a change to the list). */
    reload: () => load(page, null, 'replace'),
    /** Go back to the first page, in place. */
    first: () => load(1, null, 'replace'),
  };
}
