// The caller's chats, newest first: pages by number or by the API's next/previous links,
// delete one, delete all (after a confirmation); search them; download them all.
import { chat } from '../api.js';
import { cardActions } from '../card-actions.js';
import { pagedList } from '../paged.js';
import { answerCard } from '../render.js';
import {
  $, boot, clearFormErrors, confirmDialog, el, formMessage, removeFromList, showError, showFormError, status, time,
} from '../ui.js';

const PER_PAGE = 5;
const SEARCH_PER_PAGE = 10;
// A page of a search reads a bounded slice of a long history, so it may come back short:
// fetch on (following `next`) until there is this much to show, or this many requests.
const SEARCH_FILL = 5;
const SEARCH_STEPS = 5;

if (boot({ page: 'history' })) {
  const list = $('#history-list');
  const deleteAll = $('#delete-all');
  const searchForm = $('#search-form');
  const searchInput = $('#search-input');
  const searchView = $('#search-view');
  const searchList = $('#search-list');
  const more = $('#search-more');
  const summary = $('#history-summary');
  let pages = null;
  let search = null; // {q, next, found} while a search is shown

  /** One chat; `level`: its card's heading level (2 in the list, 3 under the search's heading). */
  function item(c, after, level = 2) {
    const remove = el('button', { type: 'button', class: 'button small danger-outline',
                                  'aria-label': `“${c.content.slice(0, 20)}” 대화 삭제` }, '삭제');
    remove.addEventListener('click', () => removeFromList(remove, remove.closest('ol'), '.history-item .danger-outline', {
      remove: () => chat.remove(c.id), done: '대화를 삭제했어요.', redraw: after }));
    const card = answerCard(c.chat_reply, { headingLevel: level, actions: cardActions(c) });
    return el('li', { class: 'history-item', 'data-id': c.id },
      el('div', { class: 'item-head' }, time(c.created_at), remove),
      el('p', { class: 'bubble mine' }, el('span', { class: 'visually-hidden' }, '나: '), c.content),
      card);
  }

  function render(data) {
    summary.textContent = data.count
      ? `모두 ${data.count}개의 대화가 있어요. 최근 대화부터 보여 드려요.` : '';
    deleteAll.disabled = !data.count;
    if (data.results.length) {
      list.replaceChildren(...data.results.map((c) => item(c, () => pages.reload())));
    } else {
      list.replaceChildren(el('li', { class: 'empty' }, '아직 대화가 없어요. ',
        el('a', { href: 'index.html' }, '챗봇에게 먼저 말을 걸어 보세요.')));
    }
  }

  // -- search ------------------------------------------------------------------------------------
  function showSearch(on) {
    searchView.hidden = !on;
    list.hidden = on;
    $('#history-pager').hidden = on;
    $('#search-clear').hidden = !on;
  }

  /** Fetch on from `search.next` until there is enough to show; append what was found. */
  async function searchOn() {
    more.disabled = true;
    searchList.setAttribute('aria-busy', 'true');
    try {
      let added = 0;
      for (let step = 0; step < SEARCH_STEPS && search.next !== null && added < SEARCH_FILL; step += 1) {
        const data = await chat.search(search.q, search.next || null, SEARCH_PER_PAGE);
        searchList.append(...data.results.map((c) => item(c, restartSearch, 3)));
        added += data.results.length;
        search.found += data.results.length;
        search.next = data.next;
      }
      const done = search.next === null;
      more.hidden = done;
      const q = `“${search.q}”`;
      if (search.found) {
        summary.textContent = done ? `${q}: 대화 ${search.found}개를 찾았어요.`
          : `${q}: 지금까지 대화 ${search.found}개를 찾았어요. 더 오래된 대화에서 더 찾을 수 있어요.`;
      } else {
        summary.textContent = done ? `${q}: 찾은 대화가 없어요.`
          : `${q}: 최근 대화에서는 찾지 못했어요. 더 오래된 대화에서 찾아볼 수 있어요.`;
      }
      if (done && !search.found) searchList.replaceChildren(el('li', { class: 'empty' }, '찾은 대화가 없어요.'));
      return added;
    } finally {
      more.disabled = false;
      searchList.removeAttribute('aria-busy');
    }
  }

  async function startSearch(q) {
    search = { q, next: undefined, found: 0 };
    searchList.replaceChildren();
    showSearch(true);
    await searchOn();
  }

  async function restartSearch() {
    await startSearch(search.q);
  }

  searchForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormErrors(searchForm);
    const q = searchInput.value.trim();
    if (!q) {
      formMessage(searchForm, '찾을 말을 적어 주세요.');
      searchInput.focus();
      return;
    }
    try {
      await startSearch(q);
    } catch (err) {
      showFormError(searchForm, err);
    }
  });
  more.addEventListener('click', async () => {
    const before = searchList.children.length;
    try {
      await searchOn();
      // the first new result, if any, takes the keyboard; otherwise stay on the button
      const next = searchList.children[before];
      if (next) next.querySelector('button').focus();
    } catch (err) {
      showError(err);
    }
  });
  $('#search-clear').addEventListener('click', async () => {
    search = null;
    searchInput.value = '';
    showSearch(false);
    await pages.reload();
    searchInput.focus();
  });

  // -- export ------------------------------------------------------------------------------------
  for (const button of document.querySelectorAll('.export-actions button')) {
    button.addEventListener('click', async () => {
      const format = button.dataset.format;
      button.disabled = true;
      status('내려받을 파일을 만드는 중이에요…');
      try {
        const text = await chat.exportAll(format, (n) => {
          if (n > 1) status(`내려받을 파일을 만드는 중이에요… (${n}번째 묶음)`);
        });
        const type = format === 'json' ? 'application/json' : 'text/csv;charset=utf-8';
        const url = URL.createObjectURL(new Blob([text], { type }));
        const stamp = new Date().toISOString().slice(0, 10);
        const a = el('a', { href: url, download: `stove-league-chats-${stamp}.${format}`, hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
        status(`${format.toUpperCase()} 파일로 내려받았어요.`, 'success');
      } catch (err) {
        showError(err);
      } finally {
        button.disabled = false;
        button.focus();
      }
    });
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
      if (search) await restartSearch();
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
