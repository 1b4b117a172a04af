// "Save as image": the shared card drawn on a canvas and saved as a PNG, in the browser.
// Text is laid out here, not by CSS: Korean wraps between words (keep-all) and only a word
// wider than a whole line is broken, between syllables (whole code points, never halves).

export const WIDTH = 1080;
const PAD = 88;
const TEXT_WIDTH = WIDTH - PAD * 2;
// System fonts that carry Hangul on each platform; the browser falls back per character too.
export const FONT_FAMILY = '"Pretendard", "Apple SD Gothic Neo", "Noto Sans KR", "Noto Sans CJK KR", ' +
  '"Malgun Gothic", "NanumGothic", "Nanum Gothic", sans-serif';
const COLORS = { navy: '#14213d', accent: '#d9480f', ink: '#1b1f2a', muted: '#5b6475', soft: '#fff4ec', line: '#f3c5a8' };

const font = (weight, size) => `${weight} ${size}px ${FONT_FAMILY}`;

/** Lines of `text` no wider than `width` in the context's current font. */
export function wrapText(ctx, text, width) {
  const lines = [];
  for (const paragraph of String(text).split('\n')) {
    let line = '';
    for (const word of paragraph.split(/(\s+)/).filter(Boolean)) {
      if (ctx.measureText(line + word).width <= width) {
        line += word;
        continue;
      }
      if (line.trim()) lines.push(line.trimEnd());
      line = /^\s+$/.test(word) ? '' : word;
      while (ctx.measureText(line).width > width) { // one word longer than a line
        const chars = Array.from(line);
        let fit = 1;
        while (fit < chars.length && ctx.measureText(chars.slice(0, fit + 1).join('')).width <= width) fit += 1;
        lines.push(chars.slice(0, fit).join(''));
        line = chars.slice(fit).join('');
      }
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

/** What goes on the card, in order: [{text, font, color, lineHeight, gapBefore}]. */
function blocks(card) {
  const out = [];
  if (card.input) out.push({ label: '나의 고민', text: card.input, font: font(400, 30), color: COLORS.muted, lineHeight: 46 });
  out.push({ text: `“${card.quote}”`, font: font(700, 50), color: COLORS.ink, lineHeight: 74, quote: true });
  out.push({ label: '이 대사를 고른 이유', text: card.description, font: font(400, 32), color: COLORS.ink, lineHeight: 50 });
  return out;
}

/** The card laid out: each block's lines, and the canvas height they need. */
export function layout(card) {
  const ctx = document.createElement('canvas').getContext('2d');
  let height = PAD + 120; // header: episode and speaker
  const laid = blocks(card).map((b) => {
    ctx.font = b.font;
    const lines = wrapText(ctx, b.text, TEXT_WIDTH - (b.quote ? 28 : 0));
    const labelHeight = b.label ? 48 : 0;
    const blockHeight = labelHeight + lines.length * b.lineHeight + 48;
    height += blockHeight;
    return { ...b, lines, labelHeight, blockHeight };
  });
  height += 96 + PAD; // footer
  return { blocks: laid, height: Math.ceil(height) };
}

/** The card drawn on a new canvas (WIDTH wide). */
export function drawCard(card) {
  const { blocks: laid, height } = layout(card);
  const canvas = document.createElement('canvas');
  canvas.width = WIDTH;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  ctx.textBaseline = 'top';
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, WIDTH, height);
  ctx.fillStyle = COLORS.accent;
  ctx.fillRect(0, 0, WIDTH, 14);

  let y = PAD;
  const episode = Number.isInteger(card.scene) ? `${card.scene}회` : '회차 미상';
  ctx.font = font(700, 30);
  const pillWidth = ctx.measureText(episode).width + 40;
  ctx.fillStyle = COLORS.navy;
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(PAD, y, pillWidth, 52, 26);
  else ctx.rect(PAD, y, pillWidth, 52); // older browsers: square corners
  ctx.fill();
  ctx.fillStyle = '#ffffff';
  ctx.fillText(episode, PAD + 20, y + 10);
  ctx.fillStyle = COLORS.navy;
  ctx.font = font(800, 36);
  ctx.fillText(card.speaker || '화자 미상', PAD + pillWidth + 22, y + 6);
  y += 120;

  for (const b of laid) {
    if (b.label) {
      ctx.font = font(700, 26);
      ctx.fillStyle = COLORS.accent;
      ctx.fillText(b.label, PAD, y);
    }
    const top = y + b.labelHeight;
    if (b.quote) {
      ctx.fillStyle = COLORS.line;
      ctx.fillRect(PAD, top, 8, b.lines.length * b.lineHeight);
    }
    ctx.font = b.font;
    ctx.fillStyle = b.color;
    b.lines.forEach((line, i) => ctx.fillText(line, PAD + (b.quote ? 28 : 0), top + i * b.lineHeight + 6));
    y += b.blockHeight;
  }

  ctx.fillStyle = COLORS.line;
  ctx.fillRect(PAD, y, TEXT_WIDTH, 2);
  ctx.font = font(700, 28);
  ctx.fillStyle = COLORS.navy;
  ctx.fillText('스토브리그 명대사 챗봇', PAD, y + 32); // no emoji: not every system can draw one
  ctx.font = font(400, 24);
  ctx.fillStyle = COLORS.muted;
  ctx.textAlign = 'right';
  ctx.fillText('드라마 〈스토브리그〉(SBS) 대사', WIDTH - PAD, y + 36);
  return canvas;
}

/** The card as a PNG Blob. */
export function cardPng(card) {
  const canvas = drawCard(card);
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG를 만들지 못했습니다.'))), 'image/png');
  });
}
