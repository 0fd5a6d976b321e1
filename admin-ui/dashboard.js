// The admin dashboard: a live feed (Server-Sent Events, one snapshot a second) and forms that call the
// dashboard's API with the session cookie. Nothing is kept in localStorage, sessionStorage or cookies
// readable here. Every value from the gateway is put into the page as text, never as HTML.

import { drawRateChart } from './chart.js';

const API = '/admin/api';
const $ = (selector) => document.querySelector(selector);
const numbers = new Intl.NumberFormat();

let lastSnapshot;
let lastSnapshotAt = 0;
let feed;

// ---------- the API ----------

/** Calls the dashboard API; a lost session goes back to the sign-in page. Resolves with the JSON answer. */
async function call(method, path, body) {
  const response = await fetch(`${API}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    location.replace('/admin/sign-in?ended=expired');
    throw new Error('signed out');
  }
  const text = await response.text();
  const answer = text === '' ? {} : JSON.parse(text);
  if (!response.ok) throw new Error(answer?.error?.message ?? `HTTP ${response.status}`);
  return answer;
}

// ---------- the live feed ----------

function openFeed() {
  feed = new EventSource(`${API}/feed`);
  setLive('connecting');
  feed.addEventListener('snapshot', (event) => {
    lastSnapshot = JSON.parse(event.data);
    lastSnapshotAt = Date.now();
    setLive('live');
    render(lastSnapshot);
  });
  feed.addEventListener('end', (event) => {
    feed.close();
    const { reason } = JSON.parse(event.data);
    if (reason === 'shutting-down') {
      setLive('down', 'Node shutting down; reconnecting…');
      setTimeout(openFeed, 3000);
    } else {
      location.replace(`/admin/sign-in?ended=${encodeURIComponent(reason)}`);
    }
  });
  feed.addEventListener('error', () => {
    setLive('down', 'Reconnecting…');
    // A closed EventSource was refused (401 once the session is gone): find out which.
    if (feed.readyState === EventSource.CLOSED) call('GET', '/session').then(() => setTimeout(openFeed, 3000), () => {});
  });
}

function setLive(state, label) {
  const live = $('#live');
  live.dataset.state = state;
  $('#live-text').textContent = label ?? (state === 'live' ? 'Live' : 'Connecting…');
}

// A feed that went quiet shows it, even before the browser notices the stream is gone.
setInterval(() => {
  if (lastSnapshotAt > 0 && Date.now() - lastSnapshotAt > 5000 && $('#live').dataset.state === 'live') setLive('down', 'No update for a while…');
}, 1000);

// ---------- rendering a snapshot ----------

function render(snapshot) {
  renderNodeFacts(snapshot.node);
  renderStats(snapshot);
  drawRateChart($('#rate-chart'), snapshot.published.perSecond);
  renderNodes(snapshot);
  renderRooms(snapshot.rooms);
  renderRefusals(snapshot.refusals);
  renderWebhooks(snapshot.webhooks);
  const problems = $('#problems');
  problems.hidden = snapshot.problems.length === 0;
  problems.textContent = snapshot.problems.length === 0 ? '' : `Some figures could not be read: ${snapshot.problems.join(', ')}`;
}

function renderNodeFacts(node) {
  $('#node-facts').replaceChildren(
    chip('node', node.id.slice(0, 8)),
    chip('engine', node.engine),
    chip('', node.phase),
    chip('up', duration(node.uptimeS)),
    chip('memory', bytes(node.rssBytes)),
  );
}

function renderStats({ totals, nodes, published, rooms, webhooks, refusals }) {
  const connections = totals?.connections ?? nodes.reduce((sum, node) => sum + node.connections, 0);
  setStat('connections', numbers.format(connections));
  setStat('connections-sub', `${nodes.length} node${nodes.length === 1 ? '' : 's'}`);
  setStat('users', totals === null ? '–' : numbers.format(totals.users));
  setStat('rooms', rooms === null ? '–' : numbers.format(rooms.count));
  const series = published.perSecond;
  const lastMinute = series.slice(-60);
  setStat('rate', numbers.format(series.at(-1) ?? 0));
  setStat('rate-sub', `avg ${round(average(lastMinute))} · peak ${numbers.format(Math.max(0, ...lastMinute))} (last min)`);
  setStat('webhooks', numbers.format(webhooks.pending));
  setStat('webhooks-sub', `${numbers.format(webhooks.inFlight)} in flight · ${numbers.format(webhooks.failed)} failed`);
  const refused = refusals.codes.reduce((sum, code) => sum + code.count, 0);
  setStat('refusals', numbers.format(refused));
  document.querySelector('[data-stat="refusals"]').classList.toggle('bad', refused > 0);
}

function renderNodes({ nodes, local }) {
  $('#nodes-count').textContent = `${nodes.length} live`;
  $('#nodes-table tbody').replaceChildren(...nodes.map((node) => row(
    cell(el('span', { class: 'mono' }, node.nodeId.slice(0, 8)), node.self ? el('span', { class: 'badge self' }, 'this node') : ''),
    cell(numbers.format(node.connections), 'num'),
    cell(node.lastBeatAt === null ? '—' : ago(node.lastBeatAt)),
  )));
  const transports = Object.entries(local.transports).map(([name, count]) => `${name} ${numbers.format(count)}`).join(' · ') || 'none';
  const namespaces = local.namespaces.map((namespace) => `${namespace.name} ${numbers.format(namespace.sockets)}`).join(' · ');
  $('#local-facts').replaceChildren(el('dt', {}, 'transports'), el('dd', {}, transports), el('dt', {}, 'namespaces'), el('dd', { class: 'mono' }, namespaces));
}

function renderRooms(rooms) {
  const list = rooms?.top ?? [];
  $('#rooms-count').textContent = rooms === null ? 'unavailable' : `${numbers.format(rooms.count)} in all`;
  $('#rooms-empty').hidden = list.length > 0;
  const fullest = Math.max(1, ...list.map((room) => room.sockets));
  $('#rooms-table tbody').replaceChildren(...list.map((room) => {
    const name = cell(el('span', { class: 'mono' }, room.room));
    name.classList.add('bar');
    name.style.setProperty('--bar', `${Math.round((room.sockets / fullest) * 100)}%`);
    const line = row(name, cell(numbers.format(room.sockets), 'num'));
    line.classList.add('clickable');
    line.title = `Open ${room.room}`;
    line.addEventListener('click', () => openRoom(room.room));
    return line;
  }));
}

function renderRefusals(refusals) {
  $('#refusals-empty').hidden = refusals.codes.length > 0;
  $('#refusals-table tbody').replaceChildren(...refusals.codes.map((code) => row(
    cell(el('code', {}, code.code)),
    cell(numbers.format(code.count), 'num'),
    cell(ago(code.lastAt)),
  )));
}

function renderWebhooks(webhooks) {
  const state = $('#webhooks-state');
  state.textContent = webhooks.backendUrl ? 'WEBHOOK_URL on' : 'WEBHOOK_URL off';
  state.classList.toggle('on', webhooks.backendUrl);
  const facts = [['pending', webhooks.pending], ['in flight', webhooks.inFlight], ['delivered', webhooks.delivered], ['failed', webhooks.failed], ['dropped', webhooks.dropped]];
  $('#webhook-facts').replaceChildren(...facts.map(([label, value]) => el('div', {}, el('dt', {}, label), el('dd', {}, numbers.format(value)))));
}

// ---------- user lookup ----------

async function lookUpUser(userId) {
  const result = $('#user-result');
  result.replaceChildren(el('p', { class: 'muted' }, 'Looking up…'));
  try {
    const user = await call('GET', `/users/${encodeURIComponent(userId)}`);
    result.replaceChildren(userView(user));
  } catch (error) {
    result.replaceChildren(el('p', { class: 'form-error' }, error.message));
  }
}

function userView(user) {
  const head = el('div', { class: 'result-head' },
    el('div', { class: 'result-title' },
      el('strong', {}, user.userId),
      el('span', { class: user.online ? 'status-on' : 'status-off' }, user.online ? 'online' : 'offline'),
      el('span', { class: 'muted' }, `${plural(user.connections.length, 'connection')} · ${plural(user.sessions.length, 'session')} · active session: ${user.activeSession ?? 'none set'}`),
    ),
    user.online ? el('div', { class: 'actions' }, action('Disconnect all', 'danger', `Disconnect every socket of ${user.userId}?`, () => call('POST', `/users/${encodeURIComponent(user.userId)}/disconnect`).then(({ disconnected }) => done(`Disconnected ${plural(disconnected, 'socket')} of ${user.userId}`, user.userId)))) : '',
  );
  if (user.connections.length === 0) return el('div', {}, head, el('p', { class: 'empty' }, 'No connection on any node.'));
  const own = new Set([`user:${user.userId}`, ...user.sessions.map((session) => `session:${session}`)]);
  const labelled = (label, td) => {
    td.dataset.label = label;
    return td;
  };
  const table = el('table', { class: 'stack' },
    el('thead', {}, row(el('th', {}, 'socket'), el('th', {}, 'session'), el('th', {}, 'since'), el('th', {}, 'rooms'), el('th', {}, ''))),
    el('tbody', {}, ...user.connections.map((connection) => {
      const actions = cell(sessionActions(user.userId, connection.sessionId));
      actions.classList.add('actions-cell');
      return row(
        labelled('socket', cell(el('span', { class: 'mono', title: connection.socketId }, connection.socketId.slice(0, 10)))),
        labelled('session', cell(connection.sessionId === undefined ? el('span', { class: 'muted' }, '—') : el('span', { class: 'mono nowrap' }, connection.sessionId))),
        labelled('since', cell(el('span', { class: 'nowrap' }, ago(connection.connectedAt)))),
        labelled('rooms', cell(...(connection.rooms ?? []).map((room) => el('span', { class: own.has(room) || room.startsWith('role:') ? 'tag own' : 'tag' }, room)))),
        actions,
      );
    })),
  );
  return el('div', {}, head, el('div', { class: 'table-wrap' }, table));
}

function sessionActions(userId, sessionId) {
  if (sessionId === undefined) return '';
  const user = encodeURIComponent(userId);
  return el('div', { class: 'actions' },
    action('Disconnect', 'small', `Disconnect session ${sessionId} of ${userId}?`, () =>
      call('POST', `/users/${user}/disconnect`, { sessionId }).then(({ disconnected }) => done(`Disconnected ${plural(disconnected, 'socket')} of session ${sessionId}`, userId))),
    action('Force logout others', 'small danger', `Make ${sessionId} the active session of ${userId} and log out every other session (auth:logout)?`, () =>
      call('POST', '/force-logout', { userId, sessionId }).then(({ disconnected }) => done(`Logged out ${plural(disconnected, 'other socket')} of ${userId}`, userId))),
  );
}

function done(message, userId) {
  toast(message);
  setTimeout(() => lookUpUser(userId), 400);
}

// ---------- room ----------

function openRoom(room) {
  $('#room-name').value = room;
  void showRoom(room);
  $('#room-result').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
}

async function showRoom(room) {
  const result = $('#room-result');
  result.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
  const path = `/rooms/${encodeURIComponent(room)}`;
  try {
    const [presence, history] = await Promise.all([call('GET', `${path}/presence`), call('GET', `${path}/history`).catch((error) => ({ error: error.message }))]);
    const members = presence.members;
    const people = members.length === 0
      ? el('p', { class: 'empty' }, 'Nobody is in this room.')
      : el('div', { class: 'table-wrap scroll' }, el('table', {},
        el('thead', {}, row(el('th', {}, 'member'), el('th', { class: 'num' }, 'connections'))),
        el('tbody', {}, ...members.map((member) => {
          const line = row(cell(el('span', { class: 'mono' }, member.userId)), cell(numbers.format(member.connections), 'num'));
          line.classList.add('clickable');
          line.title = `Look up ${member.userId}`;
          line.addEventListener('click', () => {
            $('#user-id').value = member.userId;
            void lookUpUser(member.userId);
          });
          return line;
        }))));
    result.replaceChildren(
      el('div', { class: 'result-head' }, el('div', { class: 'result-title' }, el('strong', { class: 'mono' }, presence.room), el('span', { class: 'muted' }, plural(members.length, 'member')))),
      people,
      el('h3', {}, 'Recent history'),
      historyView(history),
    );
  } catch (error) {
    result.replaceChildren(el('p', { class: 'form-error' }, error.message));
  }
}

function historyView(history) {
  if (history.error !== undefined) return el('p', { class: 'empty' }, history.error);
  if (history.messages.length === 0) return el('p', { class: 'empty' }, 'No message kept for this room.');
  const latest = [...history.messages].reverse().slice(0, 20);
  return el('ul', { class: 'history' }, ...latest.map((message) => el('li', {},
    el('span', { class: 'mono muted' }, `#${message.offset}`),
    el('strong', { class: 'mono' }, message.event),
    el('span', { class: 'muted' }, ago(message.ts)),
    el('span', { class: 'data' }, truncate(JSON.stringify(message.data) ?? '', 240)),
  )));
}

// ---------- publish ----------

async function publish(form) {
  const fields = new FormData(form);
  const kind = fields.get('kind');
  const target = String(fields.get('target')).trim();
  const out = $('#publish-result');
  let data;
  const text = String(fields.get('data')).trim();
  try {
    data = text === '' ? undefined : JSON.parse(text);
  } catch {
    out.textContent = 'The data is not valid JSON.';
    return;
  }
  if (kind !== 'broadcast' && target === '') {
    out.textContent = 'Name the target.';
    return;
  }
  if (kind === 'broadcast' && !confirm('Send this to every connected socket?')) return;
  const body = { event: String(fields.get('event')).trim(), ...(data === undefined ? {} : { data }), ...(kind === 'broadcast' ? { broadcast: true } : { [kind]: [target] }) };
  try {
    const answer = await call('POST', '/publish', body);
    out.textContent = `Published · id ${answer.id.slice(0, 8)}${answer.offset === undefined ? '' : ` · offset ${answer.offset}`}`;
    toast(`Published "${body.event}"`);
  } catch (error) {
    out.textContent = error.message;
  }
}

// ---------- small helpers ----------

function el(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  element.append(...children.filter((child) => child !== '' && child !== undefined && child !== null));
  return element;
}

function row(...cells) {
  return el('tr', {}, ...cells);
}

function cell(...content) {
  const last = content.at(-1);
  if (last === 'num') return el('td', { class: 'num' }, ...content.slice(0, -1));
  return el('td', {}, ...content);
}

function chip(label, value) {
  return el('span', { class: 'chip' }, label === '' ? '' : `${label} `, el('strong', {}, value));
}

function action(label, kind, question, run) {
  const button = el('button', { type: 'button', class: kind }, label);
  button.addEventListener('click', async () => {
    if (!confirm(question)) return;
    button.disabled = true;
    try {
      await run();
    } catch (error) {
      toast(error.message, true);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

function setStat(name, value) {
  document.querySelector(`[data-stat="${name}"]`).textContent = value;
}

function toast(message, bad = false) {
  const item = el('div', { class: bad ? 'toast bad' : 'toast', role: 'status' }, message);
  $('#toasts').append(item);
  setTimeout(() => item.remove(), 4000);
}

function ago(at) {
  const seconds = Math.max(0, Math.round((Date.now() - at) / 1000));
  return seconds < 5 ? 'just now' : `${duration(seconds)} ago`;
}

function duration(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86_400)} d ${Math.floor((seconds % 86_400) / 3600)} h`;
}

function bytes(count) {
  return count >= 1024 ** 3 ? `${(count / 1024 ** 3).toFixed(1)} GB` : `${Math.round(count / 1024 ** 2)} MB`;
}

function plural(count, word) {
  return `${numbers.format(count)} ${word}${count === 1 ? '' : 's'}`;
}

function average(values) {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function round(value) {
  return value >= 10 ? numbers.format(Math.round(value)) : value.toFixed(1);
}

function truncate(text, length) {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}

// ---------- start ----------

$('#user-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const userId = $('#user-id').value.trim();
  if (userId !== '') void lookUpUser(userId);
});
$('#room-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const room = $('#room-name').value.trim();
  if (room !== '') void showRoom(room);
});
$('#publish-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void publish(event.currentTarget);
});
$('#publish-form select[name="kind"]').addEventListener('change', (event) => {
  const target = $('#publish-form input[name="target"]');
  target.disabled = event.currentTarget.value === 'broadcast';
  target.placeholder = { users: 'alice', rooms: 'chat:lobby', sessions: 'session id', broadcast: '' }[event.currentTarget.value];
});
$('#sign-out').addEventListener('click', async () => {
  feed?.close();
  await fetch(`${API}/session`, { method: 'DELETE' }).catch(() => {});
  location.replace('/admin/sign-in?ended=signed-out');
});
new ResizeObserver(() => {
  if (lastSnapshot !== undefined) drawRateChart($('#rate-chart'), lastSnapshot.published.perSecond);
}).observe($('#rate-chart'));

call('GET', '/session').then((session) => {
  const update = () => {
    const left = Math.max(0, Math.round((session.expiresAt - Date.now()) / 60_000));
    $('#session-facts').textContent = `${session.via === 'token' ? `signed in as ${session.userId}` : 'signed in with an API key'} · ${left} min left`;
  };
  update();
  setInterval(update, 30_000);
}, () => {});
openFeed();
