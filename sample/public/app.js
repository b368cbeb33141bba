// The chat page's client: plain browser JavaScript, no build step. It speaks chat.v1 (see the
// docs/getting-started.md, "The chat protocol") to /chat and reconnects with backoff when the connection drops,
// sending the room's last position it saw, so the server replays what it missed meanwhile.
const PROTOCOL = 'chat.v1';
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;
const AVATAR_COLOURS = [
  '#3b82f6',
  '#10b981',
  '#f59e0b',
  '#8b5cf6',
  '#ef4444',
  '#0ea5e9',
  '#ec4899',
  '#14b8a6',
];

const $ = (id) => document.getElementById(id);
const ui = {
  join: $('join'),
  name: $('name'),
  room: $('room'),
  chat: $('chat'),
  roomName: $('room-name'),
  memberCount: $('member-count'),
  members: $('members'),
  leave: $('leave'),
  log: $('log'),
  say: $('say'),
  text: $('text'),
  status: $('status'),
  statusText: $('status-text'),
};

const state = {
  socket: null,
  name: '',
  room: '',
  you: null,
  members: new Map(),
  attempt: 0,
  retryTimer: 0,
  countdown: 0,
  leaving: false,
  joinedOnce: false,
  position: null, // the room's last { offset, epoch } this page saw
};

// Prefill from ?name=&room= or from the last visit.
const params = new URLSearchParams(location.search);
ui.name.value = params.get('name') ?? localStorage.getItem('chat.name') ?? '';
ui.room.value = params.get('room') ?? localStorage.getItem('chat.room') ?? 'lobby';

ui.join.addEventListener('submit', (event) => {
  event.preventDefault();
  state.name = ui.name.value.trim();
  state.room = ui.room.value.trim().toLowerCase();
  localStorage.setItem('chat.name', state.name);
  localStorage.setItem('chat.room', state.room);
  state.leaving = false;
  state.joinedOnce = false;
  state.position = null;
  state.attempt = 0;
  ui.log.replaceChildren();
  ui.join.hidden = true;
  ui.chat.hidden = false;
  connect();
});

ui.leave.addEventListener('click', () => {
  state.leaving = true;
  stopRetrying();
  state.socket?.close(1000, 'left');
  state.socket = null;
  setStatus('idle', 'not connected');
  ui.chat.hidden = true;
  ui.join.hidden = false;
});

ui.say.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.text.value.trim();
  if (!text) return;
  if (state.socket?.readyState !== WebSocket.OPEN) {
    notice('Not connected: the message was not sent', 'error');
    return;
  }
  state.socket.send(JSON.stringify({ type: 'say', text }));
  ui.text.value = '';
  ui.text.focus();
});

function connect() {
  stopRetrying();
  setStatus('connecting', 'connecting…');
  const url = new URL('/chat', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('room', state.room);
  url.searchParams.set('name', state.name);
  if (state.position)
    url.searchParams.set('since', `${state.position.offset}:${state.position.epoch}`);
  const socket = new WebSocket(url, PROTOCOL);
  state.socket = socket;
  let opened = false;
  socket.addEventListener('open', () => {
    opened = true;
    state.attempt = 0;
    setStatus('online', 'online');
  });
  socket.addEventListener('message', (event) => receive(JSON.parse(event.data)));
  socket.addEventListener('close', (event) => {
    if (state.socket !== socket) return; // a socket we already left
    state.socket = null;
    if (state.leaving) return;
    // Said once per lost connection, not for every attempt that fails while the server is away.
    if (opened) {
      const why = event.code === 1006 ? 'connection lost' : `closed ${event.code} ${event.reason}`;
      notice(`Disconnected (${why.trim()})`, 'error');
    }
    if (!shouldReconnect(event.code)) {
      // e.g. 1008 (flooding), 1003: the same again would be refused again.
      setStatus('idle', 'not connected: leave and join again to go on');
      return;
    }
    scheduleReconnect();
  });
}

/**
 * The library's close-code convention (docs/lifecycle.md, "Close codes: reconnect or not", the same rule as
 * `isReconnectCloseCode()`; this page has no build step to import it): reconnect after 1001,
 * 1006, 1011-1014, 3000-3499 and 4000-4499, not after the others.
 */
function shouldReconnect(code) {
  if (code >= 3000 && code <= 4999) return code % 1000 < 500;
  return [1001, 1006, 1011, 1012, 1013, 1014].includes(code);
}

/** Exponential backoff with jitter: 0.5 s, 1 s, 2 s, … up to 10 s. */
function scheduleReconnect() {
  const base = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** state.attempt);
  const delay = Math.round(base * (0.75 + Math.random() * 0.5));
  state.attempt++;
  const due = Date.now() + delay;
  const tick = () => {
    const seconds = Math.max(0, Math.ceil((due - Date.now()) / 1000));
    setStatus('reconnecting', `reconnecting in ${seconds} s…`);
  };
  tick();
  state.countdown = setInterval(tick, 250);
  state.retryTimer = setTimeout(connect, delay);
}

function stopRetrying() {
  clearTimeout(state.retryTimer);
  clearInterval(state.countdown);
}

function receive(message) {
  if (message.position) state.position = message.position;
  switch (message.type) {
    case 'members':
      state.you = message.you;
      state.members = new Map(message.members.map((member) => [member.id, member]));
      ui.roomName.textContent = message.room;
      renderMembers();
      notice(
        state.joinedOnce ? 'Reconnected' : `You joined #${message.room} as ${message.you.name}`,
      );
      state.joinedOnce = true;
      if (message.resumed) resumed(message.resumed);
      break;
    case 'joined':
      state.members.set(message.member.id, message.member);
      renderMembers();
      notice(`${message.member.name} joined`);
      break;
    case 'left':
      state.members.delete(message.member.id);
      renderMembers();
      notice(`${message.member.name} left`);
      break;
    case 'said':
      say(message.from, message.text, message.at);
      break;
    case 'error':
      notice(message.message, 'error');
      break;
  }
}

/** After a reconnect: the missed messages came before `members`; say so, or mark a hole. */
function resumed({ recovered, missed, reason }) {
  if (!recovered) notice(`Some messages may be missing (${reason})`, 'gap');
  else if (missed > 0) notice(`${missed} missed message(s) delivered`);
}

function renderMembers() {
  const items = [...state.members.values()]
    .toSorted((a, b) => a.name.localeCompare(b.name))
    .map((member) => {
      const item = element('li', member.id === state.you?.id ? 'you' : '');
      item.append(avatar(member.name), element('span', 'name', member.name));
      return item;
    });
  ui.members.replaceChildren(...items);
  ui.memberCount.textContent = String(state.members.size);
}

function say(from, text, at) {
  const mine = from.id === state.you?.id;
  const item = element('li', mine ? 'message mine' : 'message');
  const bubble = element('div', 'bubble');
  const time = new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  bubble.append(element('span', 'meta', mine ? time : `${from.name} · ${time}`), text);
  item.append(avatar(from.name), bubble);
  append(item);
}

function notice(text, kind = '') {
  append(element('li', `notice ${kind}`.trim(), text));
}

function append(item) {
  const atBottom = ui.log.scrollTop + ui.log.clientHeight >= ui.log.scrollHeight - 40;
  ui.log.append(item);
  if (atBottom) ui.log.scrollTop = ui.log.scrollHeight;
}

function avatar(name) {
  const badge = element('span', 'avatar', [...name][0]?.toUpperCase() ?? '?');
  let hash = 2166136261; // FNV-1a: the same name gets the same colour on every page
  for (const char of name) hash = Math.imul(hash ^ char.codePointAt(0), 16777619);
  hash ^= hash >>> 13; // then mix, so that short names spread over the palette
  hash = Math.imul(hash, 0x5bd1e995);
  hash ^= hash >>> 15;
  badge.style.setProperty('--avatar', AVATAR_COLOURS[(hash >>> 0) % AVATAR_COLOURS.length]);
  return badge;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text; // never innerHTML: names and texts are user input
  return node;
}

function setStatus(kind, text) {
  ui.status.dataset.state = kind;
  ui.statusText.textContent = text;
  ui.chat.classList.toggle('offline', kind !== 'online'); // the member list may be stale
  ui.text.disabled = kind !== 'online';
  ui.say.querySelector('button').disabled = kind !== 'online';
}
