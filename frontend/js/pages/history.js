// The caller's chats, newest first: pages by number or by the API's next/previous links,
// delete one, delete all (after a confirmation).
import { chat } from '../api.js';
import { pagedList } from '../paged.js';
import { answerCard } from '../render.js';
import { $, boot, confirmDialog, el, showError, status, time } from '../ui.js';

const PER_PAGE = 5;

if (boot({ page: 'history' })) {
  const list = $('#history-list');
  const deleteAll = $('#delete-all');
  let pages = null;

  function item(c) {
    const remove = el('button', { type: 'button', class: 'button small danger-outline',
                                  'aria-label': `“${c.content.slice(0, 20)}” 대화 삭제` }, '삭제');
    remove.addEventListener('click', async () => {
      remove.disabled = true;
      const index = [...list.children].findIndex((li) => li.contains(remove));
      try {
        await chat.remove(c.id);
        status('대화를 삭제했어요.', 'success');
        await pages.reload();
        // keep the keyboard where it was: the item that took this one's place, or the heading
        const buttons = list.querySelectorAll('.history-item button');
        (buttons[Math.min(index, buttons.length - 1)] || $('h1')).focus();
      } catch (err) {
        remove.disabled = false;
        showError(err);
      }
    });
    return el('li', { class: 'history-item', 'data-id': c.id },
      el('div', { class: 'item-head' }, time(c.created_at), remove),
      el('p', { class: 'bubble mine' }, el('span', { class: 'visually-hidden' }, '나: '), c.content),
      answerCard(c.chat_reply, { headingLevel: 2 }));
  }

  function render(data) {
    $('#history-summary').textContent = data.count
      ? `모두 ${data.count}개의 대화가 있어요. 최근 대화부터 보여 드려요.` : '';
    deleteAll.disabled = !data.count;
    if (data.results.length) {
      list.replaceChildren(...data.results.map(item));
    } else {
      list.replaceChildren(el('li', { class: 'empty' }, '아직 대화가 없어요. ',
        el('a', { href: 'index.html' }, '챗봇에게 먼저 말을 걸어 보세요.')));
    }
  }

  deleteAll.addEventListener('click', async () => {
    const ok = await confirmDialog({ title: '대화 기록을 모두 지울까요?',
                                     message: '지운 대화는 되돌릴 수 없어요.', confirmLabel: '모두 삭제' });
    if (!ok) return;
    deleteAll.disabled = true;
    try {
      await chat.removeAll();
      status('대화 기록을 모두 지웠어요.', 'success');
      await pages.first();
      $('h1').focus(); // the button that had focus is now disabled: start again from the top
    } catch (err) {
      deleteAll.disabled = false;
      showError(err);
    }
  });

  pages = pagedList({ list, pagerHost: $('#history-pager'), perPage: PER_PAGE, label: '대화 기록 페이지',
                      fetchPage: chat.history, render });
  pages.start();
}
