// The quote request board: every proposal, newest first, by pages.
import { board, link } from '../api.js';
import { authorLabel, pager, statusBadge } from '../render.js';
import { $, boot, el, episodeLabel, queryInt, showError, time } from '../ui.js';

const PER_PAGE = 10;

if (boot({ page: 'board' })) {
  const list = $('#board-list');
  let page = queryInt('page');

  function item(q) {
    return el('li', { class: 'card proposal-item', 'data-id': q.id },
      el('h2', {}, el('a', { href: `board-view.html?id=${encodeURIComponent(q.id)}` }, q.title)),
      el('blockquote', { class: 'excerpt' }, el('p', {}, q.content)),
      el('p', { class: 'meta' },
        statusBadge(q),
        el('span', {}, `${q.speaker || '화자 미상'} · ${episodeLabel(q.scene)}`),
        el('span', { class: 'author' }, authorLabel(q)),
        time(q.created_at)));
  }

  function render(data) {
    $('#new-proposal').hidden = !link(data, 'propose');
    list.replaceChildren(...(data.results.length ? data.results.map(item)
      : [el('li', { class: 'empty' }, '아직 제안이 없어요. 첫 번째 명대사를 제안해 보세요.')]));
    const pagerHost = $('#board-pager');
    pagerHost.replaceChildren();
    if (data.count > PER_PAGE || page > 1) {
      pagerHost.append(pager({ page, perPage: PER_PAGE, data, label: '게시판 페이지',
                               go: (target, href) => load(target, href, 'push') }));
    }
  }

  /** Load a page by number, or by following `href`; `mode` says how the address bar follows. */
  async function load(target, href = null, mode = null) {
    list.setAttribute('aria-busy', 'true');
    try {
      const data = await board.list(href || target, PER_PAGE);
      const last = Math.max(1, Math.ceil(data.count / PER_PAGE));
      if (!data.results.length && target > last) return await load(last, null, 'replace'); // past the end
      page = target;
      const url = page > 1 ? `?page=${page}` : location.pathname;
      if (mode === 'push') history.pushState({ page }, '', url);
      else if (mode === 'replace') history.replaceState({ page }, '', url);
      render(data);
      if (mode === 'push') list.scrollIntoView({ block: 'start' });
    } catch (err) {
      showError(err);
    } finally {
      list.removeAttribute('aria-busy');
    }
  }

  window.addEventListener('popstate', () => load(queryInt('page')));
  load(page);
}
