// Sign up; the account is logged in at once and lands on the chat.
import { accounts, isLoggedIn, setFlash } from '../api.js';
import { $, boot, formMessage, onSubmit, setFieldError } from '../ui.js';

if (boot({ page: 'join', protect: false })) {
  if (isLoggedIn()) {
    location.replace('index.html');
  } else {
    const form = $('#join-form');
    onSubmit(form, async ({ email, nickname, password, password_confirm: confirm }) => {
      if (password !== confirm) {
        formMessage(form, '입력값을 확인해 주세요.');
        setFieldError(form, 'password_confirm', '두 비밀번호가 일치하지 않습니다.');
        return;
      }
      const { user } = await accounts.join({ email: email.trim(), nickname: nickname.trim(), password });
      setFlash(`${user.nickname}님, 환영합니다! 오늘의 고민을 적어 보세요.`);
      location.assign('index.html');
    });
    form.elements.email.focus();
  }
}
