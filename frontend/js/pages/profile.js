// The profile: see the account, change nickname or password, delete the account.
import { accounts, setFlash } from '../api.js';
import { $, boot, confirmDialog, el, formatDate, formMessage, onSubmit, setFieldError, showError,
  showWhoami } from '../ui.js';

if (boot({ page: 'profile' })) {
  const facts = $('#account');

  function render(p) {
    const row = (term, value) => [el('dt', {}, term), el('dd', {}, value)];
    facts.replaceChildren(
      ...row('이메일', p.email),
      ...row('닉네임', p.nickname),
      ...row('가입한 날', formatDate(p.created_at)),
      ...row('마지막 로그인', p.last_login ? formatDate(p.last_login) : '기록 없음'),
      ...row('권한', p.is_admin ? '관리자' : '일반 회원'));
    facts.removeAttribute('aria-busy');
    $('#password-form').elements.username.value = p.email; // for password managers
    showWhoami();
  }

  accounts.profile().then((p) => {
    render(p);
    $('#nickname-form').elements.nickname.value = p.nickname;
  }, showError);

  onSubmit($('#nickname-form'), async ({ nickname }, form) => {
    render(await accounts.updateProfile({ nickname: nickname.trim() }));
    formMessage(form, '닉네임을 바꿨어요.', 'success');
  });

  onSubmit($('#password-form'), async ({ current_password: current, password, password_confirm: confirm }, form) => {
    if (password !== confirm) {
      formMessage(form, '입력값을 확인해 주세요.');
      setFieldError(form, 'password_confirm', '새 비밀번호가 서로 다릅니다.');
      return;
    }
    await accounts.updateProfile({ password, current_password: current });
    form.reset();
    formMessage(form, '비밀번호를 바꿨어요. 다음 로그인부터 새 비밀번호를 쓰세요.', 'success');
  });

  onSubmit($('#delete-form'), async ({ password }, form) => {
    if (!password) {
      formMessage(form, '입력값을 확인해 주세요.');
      setFieldError(form, 'password', '비밀번호를 입력해 주세요.');
      return;
    }
    const ok = await confirmDialog({ title: '정말 탈퇴할까요?',
                                     message: '계정과 모든 대화 기록이 지워지고 되돌릴 수 없어요.',
                                     confirmLabel: '탈퇴하기' });
    if (!ok) return;
    await accounts.deleteAccount(password);
    setFlash('탈퇴했어요. 그동안 함께해 주셔서 고마워요.');
    location.assign('login.html');
  });
}
