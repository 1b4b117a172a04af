// The chat: send a worry, show a "thinking" state, then the answer card.
import { ApiError, accounts, chat } from '../api.js';
import { cardActions } from '../card-actions.js';
import { answerCard } from '../render.js';
import {
  $, announce, boot, clearFormErrors, el, episodeLabel, errorText, formMessage, requestIdNote, showError,
  showWhoami,
} from '../ui.js';

const MAX = 1000;

/** What a screen reader is told when an answer arrives (the card itself gets the focus). */
function spoken(reply) {
  return `답이 왔어요. ${episodeLabel(reply.scene)} ${reply.speaker || '화자 미상'}: “${reply.quote}”`;
}

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
  input.addEventListener('input', () => {
    updateCount();
    if (input.getAttribute('aria-invalid')) clearFormErrors(form); // being fixed: the error is stale
  });
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
   * No line fits (the input was no situation or feeling): a friendly card saying what to write
   * instead, whose example prompts fill the box when chosen. Not an error: nothing failed.
   */
  function noFitCard(answer) {
    const chips = (answer.suggestions || []).map((text) => {
      const chip = el('button', { type: 'button', class: 'chip' }, text);
      chip.addEventListener('click', () => {
        input.value = text;
        updateCount();
        input.focus();
      });
      return el('li', {}, chip);
    });
    return el('article', { class: 'card no-fit', 'aria-label': '맞는 대사를 찾지 못했어요' },
      el('h2', {}, '이 이야기엔 꼭 맞는 대사가 없어요'),
      el('p', { class: 'message' }, answer.message),
      chips.length ? el('p', { class: 'try-label' }, '이렇게 적어 보세요:') : null,
      chips.length ? el('ul', { class: 'suggestions try' }, ...chips) : null);
  }

  /**
   * An answer card with "다른 대사": it asks again for the same input without the lines shown
   * so far, puts the new card below, and says so plainly when every fitting line was shown.
   */
  function answerWithAnother(text, answer, shown) {
    const another = el('button', { type: 'button', class: 'button small another' }, '다른 대사');
    const card = answerCard(answer, { headingLevel: 2, actions: cardActions(answer.chat, [another]) });
    another.addEventListener('click', async () => {
      if (busy) return;
      busy = true;
      another.disabled = true;
      another.textContent = '찾는 중…';
      announce('다른 대사를 찾는 중…');
      try {
        const next = await chat.ask(text, shown);
        const nextCard = answerWithAnother(text, next, [...shown, next.line_id]);
        another.remove();
        card.after(nextCard);
        nextCard.setAttribute('tabindex', '-1');
        announce(spoken(next));
        nextCard.focus();
      } catch (err) {
        if (!(err instanceof ApiError)) console.error(err);
        if (err.status === 404) { // every fitting line was shown: say so, and offer no more
          const notice = el('p', { class: 'notice all-shown', role: 'status', tabindex: '-1' }, err.message);
          card.after(notice);
          another.remove();
          notice.focus(); // the focused button is gone: the focus goes to the news, which is read out
        } else { // a passing failure: say it, and let the person try again
          another.disabled = false;
          another.textContent = '다른 대사';
          card.after(el('p', { class: 'notice error', role: 'alert' }, `다른 대사를 받지 못했어요. ${errorText(err)}`,
            requestIdNote(err)));
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
      formMessage(form, '고민이나 상황을 먼저 적어 주세요.'); // #chat-error, in the box's description
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    busy = true;
    button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    $('#chat-intro').classList.add('used'); // its h1 stays, for the page outline

    const thinking = el('div', { class: 'thinking' },
      el('span', { class: 'dots', 'aria-hidden': 'true' }, el('span'), el('span'), el('span')),
      '꼭 맞는 명대사를 고르는 중…');
    const exchange = el('li', { class: 'exchange', 'aria-busy': 'true' },
      el('p', { class: 'bubble mine' }, el('span', { class: 'visually-hidden' }, '나: '), text),
      thinking);
    log.append(exchange);
    input.value = '';
    updateCount();
    exchange.scrollIntoView({ block: 'end' });
    announce('꼭 맞는 명대사를 고르는 중…');
    let focusTarget = input;

    try {
      const answer = await chat.ask(text);
      const card = answer.fits === false ? noFitCard(answer) : answerWithAnother(text, answer, [answer.line_id]);
      card.tabIndex = -1; // focus moves to the new answer; Tab goes on to its buttons, then the box
      thinking.replaceWith(card);
      announce(answer.fits === false ? `맞는 대사를 찾지 못했어요. ${answer.message}` : spoken(answer));
      // unless a next worry is being typed meanwhile: then the typing is not interrupted
      if (!(input.value && document.activeElement === input)) focusTarget = card;
    } catch (err) {
      if (!(err instanceof ApiError)) console.error(err);
      thinking.replaceWith(el('p', { class: 'notice error', role: 'alert' }, `답을 받지 못했어요. ${errorText(err)}`,
        requestIdNote(err)));
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
      focusTarget.focus();
    }
  });
}
