// The original web client's API calls, written as it writes them: fetch() with credentials
// 'include', paths with a trailing slash, no Accept header (fetch sends */*), `bearer` in lower
// case, the chat input as FormData, JSON.parse of the chat answer, then its own save. Tokens
// and the user live in localStorage; only `access` is replaced at a refresh.
const OldClient = {
  base: '',

  headers(json) {
    const headers = {};
    if (json) headers['Content-Type'] = 'application/json';
    const access = localStorage.getItem('access');
    if (access) headers.Authorization = 'bearer ' + access;
    return headers;
  },

  keep(data) {
    localStorage.setItem('access', data.access);
    localStorage.setItem('refresh', data.refresh);
    localStorage.setItem('user', JSON.stringify(data.user));
  },

  // The join page: on an error, each key of the body goes into the element with that id.
  async signup(email, nickname, password1, password2) {
    const res = await fetch(this.base + '/rest-auth/registration/', {
      method: 'POST', credentials: 'include', headers: this.headers(true),
      body: JSON.stringify({ email, nickname, password1, password2 }),
    });
    const data = await res.json();
    if (res.ok) {
      this.keep(data);
    } else {
      for (const key of Object.keys(data)) document.getElementById(key).textContent = data[key];
    }
    return res.status;
  },

  async login(email, password) {
    const res = await fetch(this.base + '/rest-auth/login/', {
      method: 'POST', credentials: 'include', headers: this.headers(true), body: JSON.stringify({ email, password }),
    });
    if (res.ok) this.keep(await res.json());
    return res.status;
  },

  accessExpiry() {
    return JSON.parse(atob(localStorage.getItem('access').split('.')[1])).exp;
  },

  async refresh() {
    const res = await fetch(this.base + '/rest-auth/token/refresh/', {
      method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh: localStorage.getItem('refresh') }),
    });
    if (res.ok) localStorage.setItem('access', (await res.json()).access);
    return res.status;
  },

  // The chat page: ask, show the answer, then save the exchange.
  async ask(text) {
    const form = new FormData();
    form.append('input', text);
    const res = await fetch(this.base + '/chat/api/', {
      method: 'POST', credentials: 'include', headers: this.headers(false), body: form,
    });
    const answer = JSON.parse(await res.json());
    document.getElementById('scene').textContent = answer.scene + '화';
    document.getElementById('quote').textContent = answer.quote;
    document.getElementById('description').textContent = answer.description;
    const user = JSON.parse(localStorage.getItem('user'));
    const saved = await fetch(this.base + '/chat/model/', {
      method: 'POST', credentials: 'include', headers: this.headers(true),
      body: JSON.stringify({ content: text, user: user.pk, chat_reply: {
        scene: answer.scene, quote: answer.quote, description: answer.description, user: user.pk } }),
    });
    return { answer, saved: saved.status };
  },

  async history(page) {
    const res = await fetch(this.base + '/chat/model/?per-page=5&page=' + page, {
      credentials: 'include', headers: this.headers(false),
    });
    return res.json();
  },

  async profile() {
    const res = await fetch(this.base + '/rest-auth/profile/', { credentials: 'include', headers: this.headers(false) });
    return res.status;
  },
};
