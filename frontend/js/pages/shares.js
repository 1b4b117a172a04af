// My share links, newest first, by pages: open, copy, revoke (after a confirmation).
import { keep } from '../api.js';
import { shareUrl } from '../card-actions.js';
import { pagedList } from '../paged.js';
import { $, boot, confirmDialog, el, episodeLabel, removeFromList, time } from '../ui.js';

const PER_PAGE = 5;

if (boot({ page: 'shares' })) {
  const list = $('#shares-list');
  let pages = null;

  function item(s) {
    const url = shareUrl(s.id);
    const revoke = el('button', { type: 'button', class: 'button small danger-outline',
                                  'aria-label': `“${s.card.quote.slice(0, 20)}” 공유 링크 취소` }, '링크 취소');
    revoke.addEventListener('click', async () => {
      const ok = await confirmDialog({ title: '공유 링크를 취소할까요?',
                                       message: '이 링크로는 더 이상 카드를 볼 수 없게 돼요.', confirmLabel: '링크 취소' });
      if (!ok) return;
      await removeFromList(revoke, list, '.share-item .danger-outline', {
        remove: () => keep.revoke(s.id), done: '공유 링크를 취소했어요.', redraw: () => pages.reload() });
    });
    return el('li', { class: 'card share-item', 'data-id': s.id },
      el('p', { class: 'meta' }, time(s.created_at), el('span', {}, `${episodeLabel(s.card.scene)} · ${s.card.speaker || '화자 미상'}`),
        el('span', { class: 'badge pending' }, s.include_input ? '질문 포함' : '질문 비공개')),
      el('blockquote', { class: 'excerpt' }, el('p', {}, s.card.quote)),
      el('p', { class: 'actions' },
        el('a', { class: 'button small secondary', href: url, target: '_blank', rel: 'noopener' }, '열어 보기'),
        revoke));
  }

  function render(data) {
    list.replaceChildren(...(data.results.length ? data.results.map(item)
      : [el('li', { class: 'empty' }, '공유한 카드가 없어요. 답변 카드의 ‘공유하기’로 링크를 만들 수 있어요.')]));
  }

  pages = pagedList({ list, pagerHost: $('#shares-pager'), perPage: PER_PAGE, label: '공유 링크 페이지',
                      fetchPage: keep.shares, render });
  pages.start();
}
