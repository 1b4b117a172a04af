// Admin: per corpus line, how often the bot gave it and its 👍/👎, by pages, in a chosen order.
import { admin } from '../api.js';
import { pagedList } from '../paged.js';
import { $, boot, el, episodeLabel } from '../ui.js';

const PER_PAGE = 10;

if (boot({ page: 'board' })) {
  const list = $('#stats-list');
  const sort = $('#stats-sort');

  function row(r) {
    return el('tr', { 'data-line': r.line.id },
      el('th', { scope: 'row', class: 'stats-quote' }, r.line.quote),
      el('td', {}, `${episodeLabel(r.line.scene)} · ${r.line.speaker}`),
      el('td', { class: 'num given' }, String(r.given)),
      el('td', { class: 'num up' }, String(r.up)),
      el('td', { class: 'num down' }, String(r.down)));
  }

  function render(data) {
    list.replaceChildren(...(data.results.length ? data.results.map(row)
      : [el('tr', {}, el('td', { colspan: 5, class: 'empty' }, '아직 대사가 없어요.'))]));
  }

  const pages = pagedList({ list, pagerHost: $('#stats-pager'), perPage: PER_PAGE, label: '대사별 반응 페이지',
                            fetchPage: (p, perPage) => admin.lineStats(p, perPage, sort.value), render });
  sort.addEventListener('change', () => pages.first());
  pages.start();
}
