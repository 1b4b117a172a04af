// Write a proposal, or edit one (?id=) through its `update` link.
import { board, link, setFlash } from '../api.js';
import { $, boot, el, onSubmit, showError, status } from '../ui.js';

function fields({ title, content, description, scene, speaker }) {
  return {
    title: title.trim(),
    content: content.trim(),
    description: description.trim(),
    scene: scene.trim() ? Number(scene) : null,
    speaker: speaker.trim() || null,
  };
}

if (boot({ page: 'board' })) {
  const form = $('#proposal-form');
  const id = new URLSearchParams(location.search).get('id');
  let update = null;

  if (id) {
    const view = `board-view.html?id=${encodeURIComponent(id)}`;
    document.title = '제안 수정 · 스토브리그 명대사 챗봇';
    $('#form-title').textContent = '제안 수정하기';
    form.querySelector('[type="submit"]').textContent = '저장하기';
    $('#cancel-link').href = view;
    form.inert = true;
    board.get(id).then((q) => {
      update = link(q, 'update');
      if (!update) {
        status('이 제안은 수정할 수 없어요. 작성자만, 그리고 반영되기 전에만 고칠 수 있어요.', 'error');
        form.replaceWith(el('p', {}, el('a', { href: view }, '제안으로 돌아가기')));
        return;
      }
      for (const name of ['title', 'content', 'description', 'speaker']) form.elements[name].value = q[name] || '';
      form.elements.scene.value = q.scene || '';
      form.inert = false;
      form.elements.title.focus();
    }, showError);
  } else {
    form.elements.title.focus();
  }

  onSubmit(form, async (values) => {
    if (id) {
      await board.follow(update, fields(values));
      setFlash('제안을 고쳤어요.');
      location.assign(`board-view.html?id=${encodeURIComponent(id)}`);
    } else {
      const q = await board.create(fields(values));
      setFlash('제안을 등록했어요. 관리자가 살펴본 뒤 챗봇에 반영해요.');
      location.assign(`board-view.html?id=${encodeURIComponent(q.id)}`);
    }
  });
}
