// Log in, then go back to the page that sent us here (?next=) or to the chat.
import { accounts, isLoggedIn, safeNext } from '../api.js';
import { $, boot, onSubmit } from '../ui.js';

function destination() {
  return safeNext(new URLSearchParams(location.search).get('next')) || 'index.html';
}

if (boot({ page: 'login', protect: false })) {
  if (isLoggedIn()) {
    location.replace(destination());
  } else {
    const form = $('#login-form');
    onSubmit(form, async ({ email, password }) => {
      await accounts.login(email.trim(), password);
      location.assign(destination());
    });
    form.elements.email.focus();
  }
}
