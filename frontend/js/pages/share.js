// A shared answer card: public, no login. Shows the card and saves it as a PNG image.
import { ApiError, keep } from '../api.js';
import { cardPng } from '../card-image.js';
import { answerCard } from '../render.js';
import { $, boot, el, errorText, formatDate, status } from '../ui.js';

const ID_RE = /^[A-Za-z0-9_-]{24}$/;

function notFound(message) {
  document.title = '카드를 찾을 수 없어요 · 스토브리그 명대사 챗봇';
  $('#share-title').textContent = '카드를 찾을 수 없어요';
  $('#share-card').replaceChildren(
    el('p', { class: 'notice error', role: 'alert' }, message),
    el('p', {}, el('a', { href: 'index.html' }, '스토브리그 명대사 챗봇에서 나에게 맞는 대사를 찾아보세요.')));
}

/** Save a Blob as a file, through a temporary link (the browser's own download). */
function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

if (boot({ page: 'share', protect: false })) {
  const host = $('#share-card');
  const id = new URLSearchParams(location.search).get('id') || '';
  (async () => {
    if (!ID_RE.test(id)) {
      notFound('공유 링크 주소가 올바르지 않아요. 받은 링크를 다시 확인해 주세요.');
      return;
    }
    let card;
    try {
      card = await keep.shared(id);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) notFound('링크가 취소되었거나 없는 카드예요.');
      else status(errorText(err), 'error');
      return;
    } finally {
      host.removeAttribute('aria-busy');
    }
    document.title = `“${card.quote.slice(0, 30)}” · 스토브리그 명대사`;
    host.replaceChildren(...[
      card.input ? el('p', { class: 'bubble mine shared-input' }, el('span', { class: 'visually-hidden' }, '공유한 사람의 고민: '), card.input) : null,
      answerCard({ ...card, source: null }, { headingLevel: 2 }),
      el('p', { class: 'hint' }, `${formatDate(card.created_at)}에 공유된 카드예요.`),
    ].filter(Boolean));
    $('#share-actions').hidden = false;
    const save = $('#save-image');
    save.addEventListener('click', async () => {
      save.disabled = true;
      try {
        download(await cardPng(card), `stove-league-${Number.isInteger(card.scene) ? card.scene + '-' : ''}${id.slice(0, 8)}.png`);
        status('카드를 이미지(PNG)로 저장했어요.', 'success');
      } catch (err) {
        console.error(err);
        status('이미지를 만들지 못했어요. 다른 브라우저에서 다시 시도해 주세요.', 'error');
      } finally {
        save.disabled = false;
        save.focus();
      }
    });
  })();
}
