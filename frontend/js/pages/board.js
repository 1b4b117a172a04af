// The quote request board: every proposal, newest first, by pages.
import { accounts, board, link } from '../api.js';
import { pagedList } from '../paged.js';
import { authorLabel, statusBadge } from '../render.js';
import { $, boot, el, episodeLabel, time } from '../ui.js';

const PER_PAGE = 10;

if (boot({ page: 'board' })) {
  const list = $('#board-list');
  // admins get the per-line figures (asked afresh: the stored user may predate the grant)
  accounts.profile().then((p) => { $('#line-stats').hidden = !p.is_admin; }, () => {});

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
  }

  pagedList({ list, pagerHost: $('#board-pager'), perPage: PER_PAGE, label: '게시판 페이지',
              fetchPage: board.list, render }).start();
}
