// What one can do with an answer card of a saved chat: rate it, keep its line, share it.
// Used on the chat page and in the history; every control is a real button, usable by keyboard.
import { ApiError, chat as chatApi, keep } from './api.js';
import { el, errorText, status } from './ui.js';

let panels = 0; // unique ids for the share panels on one page

/** The page address of a share link (share.html next to this page). */
export function shareUrl(shareId) {
  const url = new URL('share.html', location.href);
  url.search = new URLSearchParams({ id: shareId }).toString();
  return url.href;
}

function report(err) {
  if (!(err instanceof ApiError)) console.error(err);
  if (!(err instanceof ApiError && err.code === 'SessionEnded')) status(errorText(err), 'error');
}

function ratingButtons(saved) {
  let rating = saved.chat_reply.rating || 0;
  // the words are shown too: an emoji alone is not a label (and some systems lack the font)
  const make = (value, emoji, label) => el('button', {
    type: 'button', class: 'button small toggle rate', 'data-value': value, 'aria-pressed': 'false',
  }, el('span', { 'aria-hidden': 'true' }, emoji), label);
  const up = make(1, '👍', '도움이 됐어요');
  const down = make(-1, '👎', '잘 맞지 않아요');
  const show = () => {
    up.setAttribute('aria-pressed', String(rating === 1));
    down.setAttribute('aria-pressed', String(rating === -1));
  };
  show();
  for (const button of [up, down]) {
    button.addEventListener('click', async () => {
      const value = Number(button.dataset.value);
      const wanted = rating === value ? 0 : value; // pressing it again takes the rating back
      up.disabled = down.disabled = true;
      try {
        const updated = await chatApi.rate(saved.id, wanted);
        rating = updated.chat_reply.rating;
        show();
        status(rating === 0 ? '평가를 지웠어요.' : '평가를 남겼어요. 고마워요!', 'success');
      } catch (err) {
        report(err);
      } finally {
        up.disabled = down.disabled = false;
        button.focus();
      }
    });
  }
  return [up, down];
}

function bookmarkButton(saved) {
  const lineId = saved.chat_reply.line_id;
  if (!lineId) return null; // a line that is not one of the corpus's cannot be kept
  let kept = false;
  const button = el('button', { type: 'button', class: 'button small toggle bookmark', 'aria-pressed': 'false' });
  const show = () => {
    button.setAttribute('aria-pressed', String(kept));
    button.replaceChildren(el('span', { 'aria-hidden': 'true' }, kept ? '★ ' : '☆ '),
      kept ? '내 명대사에 담겼어요' : '내 명대사에 담기');
  };
  show();
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      if (kept) await keep.unbookmark(lineId).catch((err) => { if (err.status !== 404) throw err; });
      else await keep.bookmark(lineId);
      kept = !kept;
      show();
      status(kept ? '내 명대사에 담았어요.' : '내 명대사에서 뺐어요.', 'success');
    } catch (err) {
      report(err);
    } finally {
      button.disabled = false;
      button.focus();
    }
  });
  return button;
}

function sharePanel(saved) {
  panels += 1;
  const id = `share-panel-${panels}`;
  const toggle = el('button', { type: 'button', class: 'button small secondary', 'aria-expanded': 'false',
                                'aria-controls': id }, '공유하기');
  const include = el('input', { type: 'checkbox', id: `${id}-input`, name: 'include_input' });
  const make = el('button', { type: 'submit', class: 'button small primary' }, '공유 링크 만들기');
  const result = el('div', { class: 'share-result', hidden: true });
  const form = el('form', { class: 'share-panel', id, hidden: true, 'aria-label': '카드 공유' },
    el('p', { class: 'hint' }, '링크를 아는 누구나 로그인 없이 이 카드를 볼 수 있어요. 내 닉네임은 보이지 않아요.'),
    el('p', { class: 'check' }, include, el('label', { for: include.id }, '내 질문도 함께 보여 주기')),
    el('p', {}, make),
    result);
  toggle.addEventListener('click', () => {
    const open = form.hidden;
    form.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) include.focus();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    make.disabled = true;
    try {
      const share = await chatApi.share(saved.id, include.checked);
      const url = shareUrl(share.id);
      const field = el('input', { type: 'text', readonly: true, value: url, id: `${id}-url`,
                                  'aria-label': '공유 링크 주소' });
      const copy = el('button', { type: 'button', class: 'button small secondary' }, '링크 복사');
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(url);
          status('링크를 복사했어요.', 'success');
        } catch {
          field.select(); // the clipboard is not ours here: leave the link selected to copy by hand
          status('자동으로 복사하지 못했어요. 선택된 링크를 직접 복사해 주세요.', 'error');
        }
      });
      result.replaceChildren(
        el('p', { class: 'share-url' }, field, copy,
          el('a', { href: url, target: '_blank', rel: 'noopener', class: 'button small secondary' }, '열어 보기')),
        el('p', { class: 'hint' }, el('a', { href: 'shares.html' }, '내가 공유한 카드'), '에서 언제든 링크를 취소할 수 있어요.'));
      result.hidden = false;
      status(share.include_input ? '질문을 포함한 공유 링크를 만들었어요.' : '공유 링크를 만들었어요.', 'success');
      field.focus();
      field.select();
    } catch (err) {
      report(err);
    } finally {
      make.disabled = false;
    }
  });
  return [toggle, form];
}

/**
 * The controls under an answer card, for a saved chat (`{id, chat_reply: {line_id, rating}}`),
 * as answerCard's `actions`: a row of buttons (`extra` ones last) and the share panel.
 */
export function cardActions(saved, extra = []) {
  const [toggle, panel] = sharePanel(saved);
  return [el('div', { class: 'action-row', role: 'group', 'aria-label': '이 답변 평가하고 담기' },
    ...ratingButtons(saved), bookmarkButton(saved), toggle, ...extra), panel];
}
