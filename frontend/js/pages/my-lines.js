// My lines (내 명대사): kept lines, newest first, by pages; how often the bot gave each; remove one.
import { keep } from '../api.js';
import { pagedList } from '../paged.js';
import { answerCard } from '../render.js';
import { $, boot, el, removeFromList, time } from '../ui.js';

const PER_PAGE = 5;

if (boot({ page: 'my-lines' })) {
  const list = $('#lines-list');
  let pages = null;

  function item(b) {
    const { line } = b;
    const remove = el('button', { type: 'button', class: 'button small danger-outline',
                                  'aria-label': `“${line.quote.slice(0, 20)}” 내 명대사에서 빼기` }, '빼기');
    remove.addEventListener('click', () => removeFromList(remove, list, '.line-item .danger-outline', {
      remove: () => keep.unbookmark(line.id), done: '내 명대사에서 뺐어요.', redraw: () => pages.reload() }));
    return el('li', { class: 'history-item line-item', 'data-line': line.id },
      el('div', { class: 'item-head' },
        el('span', {}, time(b.created_at), '에 담음 · ',
          el('strong', { class: 'times-given' }, b.times_given ? `챗봇이 ${b.times_given}번 건넨 대사` : '아직 챗봇이 건넨 적 없는 대사')),
        remove),
      answerCard({ ...line, source: null }, { headingLevel: 2, whyLabel: '이럴 때 어울려요' }));
  }

  function render(data) {
    $('#lines-summary').textContent = data.count
      ? `담아 둔 대사가 ${data.count}개 있어요. 최근에 담은 것부터 보여 드려요.`
      : '마음에 든 대사를 답변 카드에서 담아 두면 여기에 모여요.';
    list.replaceChildren(...(data.results.length ? data.results.map(item)
      : [el('li', { class: 'empty' }, '아직 담은 대사가 없어요. ', el('a', { href: 'index.html' }, '챗봇과 이야기해 보세요.'))]));
  }

  pages = pagedList({ list, pagerHost: $('#lines-pager'), perPage: PER_PAGE, label: '내 명대사 페이지',
                      fetchPage: keep.bookmarks, render });
  pages.start();
}
