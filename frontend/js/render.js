// Pieces drawn on more than one page: the answer card and the pager.
import { el, episodeLabel } from './ui.js';

const SOURCES = {
  openai: 'OpenAI가 골랐어요',
  local: '로컬 검색으로 찾았어요',
  client: '직접 저장한 대화예요',
};

export function sourceLabel(source) {
  return SOURCES[source] || '';
}

/** Where the line's wording was confirmed: a link to the first source, named by its site. */
function citation(sources) {
  const href = (sources || []).find((u) => /^https?:\/\//.test(u));
  if (!href) return null;
  return el('p', { class: 'cite' }, '출처: ',
    el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, new URL(href).hostname.replace(/^www\./, '')));
}

/**
 * The chatbot's answer: episode, speaker, the line, why it fits, where it is confirmed, and
 * who picked it. `actions` (buttons) go at the card's foot.
 */
export function answerCard(reply, { headingLevel = 3, whyLabel = '이 대사를 고른 이유', actions = [] } = {}) {
  const source = sourceLabel(reply.source);
  return el('article', { class: 'card answer', 'aria-label': `${reply.speaker || '화자 미상'}의 대사`,
                         'data-line-id': reply.line_id || '' },
    el('p', { class: 'answer-meta' },
      el('span', { class: 'episode' }, episodeLabel(reply.scene)),
      el('span', { class: 'speaker' }, reply.speaker || '화자 미상')),
    el('blockquote', { class: 'quote' }, el('p', {}, reply.quote)),
    el('div', { class: 'why' },
      el(`h${headingLevel}`, {}, whyLabel),
      el('p', { class: 'description' }, reply.description)),
    citation(reply.sources),
    source ? el('p', { class: `source source-${reply.source}` }, source) : null,
    // The model answered from memory (no line of ours fitted): say it is not a checked line.
    reply.source === 'openai' && reply.grounded === false
      ? el('p', { class: 'ungrounded', role: 'note' },
        '이 대사는 챗봇의 대사 목록에 없어, 모델의 기억에 기댄 답이에요. 실제 대사와 다를 수 있어요.')
      : null,
    actions.length ? el('div', { class: 'card-actions' }, ...actions) : null);
}

/** 반영됨 / 검토 중: where a board proposal stands. */
export function statusBadge(q) {
  return q.is_apply
    ? el('span', { class: 'badge applied' }, '반영됨')
    : el('span', { class: 'badge pending' }, '검토 중');
}

/** A proposal's author as the board shows it (its email is masked unless it is the caller's). */
export function authorLabel(q) {
  return q.user ? `${q.user.nickname} (${q.user.email})` : '탈퇴한 회원';
}

/**
 * A pager: 이전/다음, and the page numbers that are one request away — the first, the previous,
 * the next and the last page (each named by the API's cursor, never a skip through the pages
 * between). Targets are {page, cursor}; `href(target)` is a target's address (so a link opens
 * in a new tab too) and `go(target)` opens it in place.
 */
export function pager({ page, total, count, prev, next, first, last, href, go, label = '페이지' }) {
  const targets = new Map();
  for (const t of [prev, next, first, last]) if (t && t.page !== page && !targets.has(t.page)) targets.set(t.page, t);
  const item = (text, target, { extraClass = '', ...attrs } = {}) => {
    const cls = `page ${extraClass}`.trim();
    if (!target) return el('li', {}, el('span', { class: `${cls} disabled`, 'aria-disabled': 'true' }, text));
    const a = el('a', { class: cls, href: href(target), ...attrs }, text);
    a.addEventListener('click', (e) => {
      if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return; // new tab: plain link
      e.preventDefault();
      go(target);
    });
    return el('li', {}, a);
  };
  const items = [item('이전', prev, { rel: 'prev', extraClass: 'step' })];
  const numbers = [...targets.keys(), page].sort((a, b) => a - b);
  numbers.forEach((p, i) => {
    if (i && p - numbers[i - 1] > 1) items.push(el('li', { class: 'gap', 'aria-hidden': 'true' }, '…'));
    if (p === page) items.push(el('li', {}, el('span', { class: 'page current', 'aria-current': 'page' }, String(p))));
    // named "N 쪽" by a hidden word, not aria-label="N쪽": the visible text must be a word of the name (WCAG 2.5.3)
    else items.push(item([String(p), el('span', { class: 'visually-hidden' }, '쪽')], targets.get(p)));
  });
  items.push(item('다음', next, { rel: 'next', extraClass: 'step' }));
  return el('nav', { class: 'pager', 'aria-label': label },
    el('ul', {}, items),
    el('p', { class: 'page-info' }, `${page} / ${total}쪽 · 모두 ${count || 0}개`));
}
