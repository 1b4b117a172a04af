// One proposal. Which buttons show is decided by its `_links`: update and delete for the
// author (update only before it is applied), delete for admins, apply/withdraw for admins.
import { board, link, setFlash } from '../api.js';
import { authorLabel, statusBadge } from '../render.js';
import { $, boot, confirmDialog, el, episodeLabel, formatDate, showError, status } from '../ui.js';

const ACTIONS = {
  apply: { label: '챗봇에 반영하기', done: '챗봇에 반영했어요. 이제 이 대사로도 답할 수 있어요.', class: 'primary' },
  withdraw: { label: '반영 취소', done: '반영을 취소했어요. 챗봇은 더 이상 이 대사로 답하지 않아요.', class: 'secondary' },
};

if (boot({ page: 'board' })) {
  const box = $('#proposal');
  const id = new URLSearchParams(location.search).get('id');

  function fact(term, value) {
    return value ? [el('dt', {}, term), el('dd', {}, value)] : [];
  }

  function render(q) {
    document.title = `${q.title} · 스토브리그 명대사 챗봇`;
    const actions = el('div', { class: 'actions' });
    const update = link(q, 'update');
    if (update) {
      actions.append(el('a', { class: 'button secondary', id: 'edit-button',
                               href: `board-form.html?id=${encodeURIComponent(q.id)}` }, '수정'));
    }
    const remove = link(q, 'delete');
    if (remove) {
      const button = el('button', { type: 'button', class: 'button danger-outline', id: 'delete-button' }, '삭제');
      button.addEventListener('click', async () => {
        const ok = await confirmDialog({ title: '이 제안을 삭제할까요?', message: '삭제한 제안은 되돌릴 수 없어요.',
                                         confirmLabel: '삭제' });
        if (!ok) return;
        try {
          await board.follow(remove);
          setFlash('제안을 삭제했어요.');
          location.assign('board.html');
        } catch (err) {
          showError(err);
        }
      });
      actions.append(button);
    }
    for (const [desc, action] of Object.entries(ACTIONS)) {
      const lnk = link(q, desc);
      if (!lnk) continue;
      const button = el('button', { type: 'button', class: `button ${action.class}`, id: `${desc}-button` },
        action.label);
      button.addEventListener('click', async () => {
        button.disabled = true;
        try {
          render(await board.follow(lnk));
          status(action.done, 'success');
          const next = $('#apply-button, #withdraw-button');
          if (next) next.focus();
        } catch (err) {
          button.disabled = false;
          showError(err);
        }
      });
      actions.append(button);
    }
    const note = q.is_apply && !update && q.user && remove && !link(q, 'withdraw')
      ? el('p', { class: 'hint' }, '반영된 제안은 수정할 수 없어요. 고치려면 관리자에게 반영 취소를 요청해 주세요.')
      : null;

    box.replaceChildren(...[
      el('header', {}, el('p', { class: 'meta' }, statusBadge(q)), el('h1', {}, q.title)),
      el('blockquote', { class: 'quote' }, el('p', {}, q.content)),
      el('div', { class: 'why' }, el('h2', {}, '어떤 상황에 어울리나요?'), el('p', { class: 'description' }, q.description)),
      el('dl', { class: 'facts' },
        fact('말한 사람', q.speaker || '미상'),
        fact('회차', episodeLabel(q.scene)),
        fact('제안한 사람', authorLabel(q)),
        fact('제안한 날', formatDate(q.created_at)),
        q.updated_at !== q.created_at ? fact('고친 날', formatDate(q.updated_at)) : [],
        fact('반영한 날', q.is_apply ? formatDate(q.applied_at) : '')),
      note,
      actions.childElementCount ? actions : null,
    ].filter(Boolean));
  }

  if (!id) {
    box.replaceChildren(el('h1', {}, '제안을 찾을 수 없어요'),
      el('p', {}, '어떤 제안을 볼지 알 수 없어요. 게시판 목록에서 골라 주세요.'));
    box.removeAttribute('aria-busy');
  } else {
    board.get(id).then(render, (err) => {
      showError(err);
      box.replaceChildren(el('h1', {}, '제안을 불러오지 못했어요')); // the page keeps its outline
    }).finally(() => box.removeAttribute('aria-busy'));
  }
}
