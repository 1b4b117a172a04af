// The chat: send a worry, show a "thinking" state, then the answer card.
import { ApiError, accounts, chat } from '../api.js';
import { answerCard } from '../render.js';
import { $, boot, clearFormErrors, el, errorText, formMessage, showError, showWhoami } from '../ui.js';

const MAX = 1000;

if (boot({ page: 'chat' })) {
  const form = $('#chat-form');
  const input = $('#chat-input');
  const log = $('#chat-log');
  const button = form.querySelector('[type="submit"]');
  let busy = false;

  // Checks the session as the page opens (a dead one goes to login) and freshens the nickname.
  accounts.profile().then(showWhoami, showError);

  const updateCount = () => {
    $('#chat-count').textContent = `${input.value.length} / ${MAX}`;
  };
  input.addEventListener('input', updateCount);
  input.addEventListener('keydown', (e) => {
    // Enter sends, Shift+Enter is a new line; never while a Hangul syllable is being composed
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  for (const chip of document.querySelectorAll('.suggestions .chip')) {
    chip.addEventListener('click', () => {
      input.value = chip.textContent;
      updateCount();
      input.focus();
    });
  }

  /**
   * An answer card with "다른 대사": it asks again for the same input without the lines shown
   * so far, puts the new card below, and says so plainly when every fitting line was shown.
   */
  function answerWithAnother(text, answer, shown) {
    const another = el('button', { type: 'button', class: 'button small another' }, '다른 대사');
    const card = answerCard(answer, { actions: [another] });
    another.addEventListener('click', async () => {
      if (busy) return;
      busy = true;
      another.disabled = true;
      another.textContent = '찾는 중…';
      try {
        const next = await chat.ask(text, shown);
        const nextCard = answerWithAnother(text, next, [...shown, next.line_id]);
        another.remove();
        card.after(nextCard);
        nextCard.setAttribute('tabindex', '-1');
        nextCard.focus();
      } catch (err) {
        if (!(err instanceof ApiError)) console.error(err);
        if (err.status === 404) { // every fitting line was shown: say so, and offer no more
          another.remove();
          card.after(el('p', { class: 'notice all-shown', role: 'status' }, err.message));
        } else { // a passing failure: say it, and let the person try again
          another.disabled = false;
          another.textContent = '다른 대사';
          card.after(el('p', { class: 'notice error', role: 'alert' }, `다른 대사를 받지 못했어요. ${errorText(err)}`));
        }
      } finally {
        busy = false;
      }
    });
    return card;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    clearFormErrors(form);
    const text = input.value.trim();
    if (!text) {
      formMessage(form, '고민이나 상황을 먼저 적어 주세요.');
      input.focus();
      return;
    }
    busy = true;
    button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    $('#chat-intro').hidden = true;

    const thinking = el('div', { class: 'thinking', role: 'status' },
      el('span', { class: 'dots', 'aria-hidden': 'true' }, el('span'), el('span'), el('span')),
      '꼭 맞는 명대사를 고르는 중…');
    const exchange = el('li', { class: 'exchange', 'aria-busy': 'true' },
      el('p', { class: 'bubble mine' }, el('span', { class: 'visually-hidden' }, '나: '), text),
      thinking);
    log.append(exchange);
    input.value = '';
    updateCount();
    exchange.scrollIntoView({ block: 'end' });

    try {
      const answer = await chat.ask(text);
      thinking.replaceWith(answerWithAnother(text, answer, [answer.line_id]));
    } catch (err) {
      if (!(err instanceof ApiError)) console.error(err);
      thinking.replaceWith(el('p', { class: 'notice error', role: 'alert' }, `답을 받지 못했어요. ${errorText(err)}`));
      if (!input.value) {
        input.value = text; // nothing is lost: send it again when ready
        updateCount();
      }
    } finally {
      exchange.removeAttribute('aria-busy');
      exchange.scrollIntoView({ block: 'nearest' });
      busy = false;
      button.disabled = false;
      form.removeAttribute('aria-busy');
      input.focus();
    }
  });
}
