// The chat page's client: plain browser JavaScript, no build step. It speaks chat.v1 (see the
// docs/getting-started.md, "The chat protocol") to /chat through the library's ReconnectingWebSocket
// (nestjs-ws-routes/client, served under /lib/ by the sample): it reconnects with back-off, follows
// the close codes and sends the room's last position back, so the server replays what it missed.
import { ReconnectingWebSocket } from './lib/client/index.js';

const PROTOCOL = 'chat.v1';
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
  countdown: 0,
  joinedOnce: false,
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
  state.joinedOnce = false;
  ui.log.replaceChildren();
  ui.join.hidden = true;
  ui.chat.hidden = false;
  connect();
});

ui.leave.addEventListener('click', () => {
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
  if (!state.socket?.send(JSON.stringify({ type: 'say', text }))) {
    notice('Not connected: the message was not sent', 'error');
    return;
  }
  ui.text.value = '';
  ui.text.focus();
});

function connect() {
  setStatus('connecting', 'connecting…');
  const url = new URL('/chat', location.href);
  url.searchParams.set('room', state.room);
  url.searchParams.set('name', state.name);
  const socket = new ReconnectingWebSocket(url, { protocols: PROTOCOL });
  state.socket = socket;
  let online = false;
  socket.addEventListener('open', () => {
    online = true;
    clearInterval(state.countdown);
    setStatus('online', 'online');
  });
  socket.addEventListener('message', (event) => receive(JSON.parse(event.data)));
  socket.addEventListener('reconnecting', ({ delayMs, lastClose }) => {
    // Said once per lost connection, not for every attempt that fails while the server is away.
    if (online) notice(`Disconnected (${closeText(lastClose)})`, 'error');
    online = false;
    countdown(delayMs);
  });
  // The room's messages since the last one seen are gone (the server restarted without its
  // history, or closed with 3000): the log above may have a hole.
  socket.addEventListener('lost', ({ reason }) =>
    notice(`Some messages may be missing (${reason})`, 'gap'),
  );
  socket.addEventListener('close', (event) => {
    clearInterval(state.countdown);
    if (event.cause === 'client') return; // left
    // e.g. 1008 (flooding), 3500: the same again would be refused again.
    if (event.cause === 'server') notice(`Disconnected (${closeText(event)})`, 'error');
    setStatus('idle', 'not connected: leave and join again to go on');
  });
}

function closeText({ code, reason }) {
  return code === 1006 ? 'connection lost' : `closed ${code} ${reason}`.trim();
}

/** "reconnecting in 3 s…", counted down until the attempt. */
function countdown(delayMs) {
  clearInterval(state.countdown);
  const due = Date.now() + delayMs;
  const tick = () => {
    const seconds = Math.max(0, Math.ceil((due - Date.now()) / 1000));
    setStatus('reconnecting', `reconnecting in ${seconds} s…`);
  };
  tick();
  state.countdown = setInterval(tick, 250);
}

function receive(message) {
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

/** After a reconnect: the missed messages came before `members` (a hole is the `lost` event's). */
function resumed({ recovered, missed }) {
  if (recovered && missed > 0) notice(`${missed} missed message(s) delivered`);
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
