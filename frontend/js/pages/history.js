// The caller's chats, newest first: pages by number or by the API's next/previous links,
// delete one, delete all (after a confirmation).
import { chat } from '../api.js';
import { answerCard, pager } from '../render.js';
import { $, boot, confirmDialog, el, queryInt, showError, status, time } from '../ui.js';

const PER_PAGE = 5;

if (boot({ page: 'history' })) {
  const list = $('#history-list');
  const deleteAll = $('#delete-all');
  let page = queryInt('page');

  function item(c) {
    const remove = el('button', { type: 'button', class: 'button small danger-outline',
                                  'aria-label': `“${c.content.slice(0, 20)}” 대화 삭제` }, '삭제');
    remove.addEventListener('click', async () => {
      remove.disabled = true;
      const index = [...list.children].findIndex((li) => li.contains(remove));
      try {
        await chat.remove(c.id);
        status('대화를 삭제했어요.', 'success');
        await load(page, null, 'replace');
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
      answerCard(c.chat_reply));
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
    const pagerHost = $('#history-pager');
    pagerHost.replaceChildren();
    if (data.count > PER_PAGE || page > 1) {
      pagerHost.append(pager({ page, perPage: PER_PAGE, data, label: '대화 기록 페이지',
                               go: (target, href) => load(target, href, 'push') }));
    }
  }

  /** Load a page by number, or by following `href`; `mode` says how the address bar follows. */
  async function load(target, href = null, mode = null) {
    list.setAttribute('aria-busy', 'true');
    try {
      const data = await chat.history(href || target, PER_PAGE);
      const last = Math.max(1, Math.ceil(data.count / PER_PAGE));
      if (!data.results.length && target > last) {
        return await load(last, null, 'replace'); // past the end (e.g. after deleting): the last page
      }
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

  deleteAll.addEventListener('click', async () => {
    const ok = await confirmDialog({ title: '대화 기록을 모두 지울까요?',
                                     message: '지운 대화는 되돌릴 수 없어요.', confirmLabel: '모두 삭제' });
    if (!ok) return;
    deleteAll.disabled = true;
    try {
      await chat.removeAll();
      status('대화 기록을 모두 지웠어요.', 'success');
      await load(1, null, 'replace');
    } catch (err) {
      deleteAll.disabled = false;
      showError(err);
    }
  });

  window.addEventListener('popstate', () => load(queryInt('page')));
  load(page);
}
