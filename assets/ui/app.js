// The live page: reads the control plane, listens to the tenant's event stream, renders.
// No framework, no build step: DOM calls and the pure functions of view.js.
import {
  clockNow, fmtBytes, fmtDuration, gauge, journalQuery, nextChange, nowAt, parseSse, progress,
  repeatText, ticks, timeline,
} from './view.js';

const BASE = '/_soundcheck';
const VIEWS = ['stores', 'library', 'journal', 'limits', 'controls'];
const JOURNAL_ROWS = 500; // the most rows the journal view keeps
const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem('soundcheck-admin-token') || '',
  tenant: null,
  view: 'stores',
  clock: null,
  clockReadAt: 0,
  stores: [],
  storesTotal: 0,
  library: [],
  sends: new Map(),
  faults: [],
  limits: [],
  journal: [],
  journalLast: null,
  journalFilter: {},
  stream: null,
  refreshing: null,
  again: false,
  deadline: null,
};

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function showError(message) {
  const el = $('error');
  el.textContent = message || '';
  el.hidden = !message;
}

function confirmDialog(text) {
  const dialog = $('confirm');
  $('confirm-text').textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    $('confirm-ok').focus();
  });
}

// ---------------------------------------------------------------- the control plane

class NeedsToken extends Error {}

function headers(extra = {}) {
  const out = { accept: 'application/json', ...extra };
  if (state.token) out.authorization = `Bearer ${state.token}`;
  return out;
}

async function api(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(BASE + path, init);
  if (response.status === 401) {
    $('token-form').hidden = false;
    throw new NeedsToken('The admin token is missing or wrong.');
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new Error(json?.error?.message || `${method} ${path}: ${response.status}`);
  }
  return json;
}

const tenantPath = (rest) => `/tenants/${encodeURIComponent(state.tenant)}${rest}`;

async function act(what, run) {
  try {
    await run();
    showError('');
  } catch (err) {
    if (!(err instanceof NeedsToken)) showError(`${what}: ${err.message}`);
  }
  scheduleRefresh();
}

// ---------------------------------------------------------------- reading

async function loadTenants() {
  const list = await api('GET', '/tenants?limit=100');
  const details = await Promise.all(
    list.tenants.map((t) => api('GET', `/tenants/${encodeURIComponent(t.id)}`).catch(() => null)),
  );
  const select = $('tenant');
  select.replaceChildren(
    ...list.tenants.map((t, i) => {
      const d = details[i];
      const stores = d ? d.companies.reduce((n, c) => n + c.locations.length, 0) : '?';
      const keys = d ? d.keys.length : '?';
      return h('option', { value: t.id, text: `${t.id} · ${t.name} (${stores} stores, ${keys} keys)` });
    }),
  );
  if (!state.tenant || !list.tenants.some((t) => t.id === state.tenant)) {
    state.tenant = list.tenants[0]?.id ?? 'default';
  }
  select.value = state.tenant;
}

async function refresh() {
  if (!state.tenant) return;
  const t = state.tenant;
  const [clock, stores, library, sends, faults, limits] = await Promise.all([
    api('GET', tenantPath('/clock')),
    api('GET', tenantPath('/stores?limit=200')),
    api('GET', tenantPath('/library')),
    api('GET', tenantPath('/sends?limit=200')),
    api('GET', tenantPath('/faults')),
    api('GET', tenantPath('/limits')),
  ]);
  if (t !== state.tenant) return;
  state.clock = clock;
  state.clockReadAt = Date.now();
  state.stores = stores.stores;
  state.storesTotal = stores.total;
  state.library = library.audio;
  state.libraryTotal = library.total;
  state.sends = new Map();
  for (const send of sends.sends) {
    if (!state.sends.has(send.audioId)) state.sends.set(send.audioId, []);
    state.sends.get(send.audioId).push(send);
  }
  state.faults = faults.faults;
  state.limits = limits.keys;
  await readJournal();
  render();
}

async function readJournal() {
  let query = journalQuery(state.journalFilter, state.journalLast ?? 0);
  for (let pages = 0; pages < 5; pages += 1) {
    const page = await api('GET', `${tenantPath('/requests')}?${query}`);
    for (const entry of page.requests) state.journal.push(entry);
    if (page.requests.length > 0) state.journalLast = page.requests[page.requests.length - 1].id;
    if (!page.nextCursor) break;
    query = journalQuery(state.journalFilter, state.journalLast);
  }
  if (state.journal.length > JOURNAL_ROWS) state.journal.splice(0, state.journal.length - JOURNAL_ROWS);
}

// One refresh at a time; changes that arrive meanwhile make one more.
function scheduleRefresh() {
  if (state.refreshing) {
    state.again = true;
    return state.refreshing;
  }
  state.refreshing = (async () => {
    try {
      do {
        state.again = false;
        await refresh();
      } while (state.again);
      showError('');
    } catch (err) {
      if (!(err instanceof NeedsToken)) showError(err.message);
    } finally {
      state.refreshing = null;
    }
  })();
  return state.refreshing;
}

// ---------------------------------------------------------------- live updates

function setLive(text, ok) {
  const el = $('live');
  el.textContent = text;
  el.className = `pill ${ok ? 'ok' : 'bad'}`;
}

// EventSource cannot send the admin token, so the stream is read with fetch.
async function listen(tenant) {
  state.stream?.abort();
  const controller = new AbortController();
  state.stream = controller;
  let wait = 1000;
  while (!controller.signal.aborted) {
    try {
      const response = await fetch(`${BASE}/tenants/${encodeURIComponent(tenant)}/events`, {
        headers: headers({ accept: 'text/event-stream' }),
        signal: controller.signal,
      });
      if (response.status === 401) {
        $('token-form').hidden = false;
        setLive('needs token', false);
        return;
      }
      if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
      setLive('live', true);
      wait = 1000;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const parsed = parseSse(buffer + value);
        buffer = parsed.rest;
        for (const { event } of parsed.events) {
          if (event === 'gone') {
            setLive('tenant deleted', false);
            await loadTenants().catch(() => {});
            return;
          }
          scheduleRefresh();
        }
      }
    } catch (err) {
      if (controller.signal.aborted) return;
    }
    setLive('reconnecting…', false);
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 30000);
  }
}

// On a running clock, what the stores show changes by itself: read again when the next
// thing is due (not on a fixed poll), and move the clock and blocks once a second locally.
function planDeadline() {
  clearTimeout(state.deadline);
  if (!state.clock || state.clock.frozen) return;
  const now = currentNow();
  const next = nextChange(state.stores, durations(), now);
  if (next == null) return;
  const delay = Math.min(Math.max(next - now + 50, 100), 2 ** 31 - 1);
  state.deadline = setTimeout(scheduleRefresh, delay);
}

const currentNow = () => clockNow(state.clock, state.clockReadAt, Date.now());

setInterval(() => {
  if (document.hidden || !state.clock || state.clock.frozen) return;
  renderClock();
  renderTimeline();
}, 1000);

// ---------------------------------------------------------------- rendering

function durations() {
  const out = {};
  for (const a of state.library) out[a.id] = a.duration * 1000;
  return out;
}

function audioName(id) {
  return state.library.find((a) => a.id === id)?.name ?? id;
}

function render() {
  renderClock();
  renderTiles();
  renderTimeline();
  renderLibrary();
  renderJournal();
  renderLimits();
  renderControls();
  planDeadline();
}

function renderClock() {
  if (!state.clock) return;
  $('clock-now').textContent = new Date(currentNow()).toISOString().replace('.000Z', 'Z');
  $('clock-now').setAttribute('datetime', new Date(currentNow()).toISOString());
  const pill = $('clock-state');
  pill.textContent = state.clock.frozen ? 'frozen' : 'running';
  pill.className = `pill ${state.clock.frozen ? '' : 'ok'}`;
}

function setPlayer(store, online) {
  const failAfter = new FormData($('player-form')).get('failAfter') || '5m';
  const body = online ? { online: true } : { online: false, failAfter };
  const query = `?company=${encodeURIComponent(store.company)}`;
  return act(online ? 'Set online' : 'Set offline', () =>
    api('POST', tenantPath(`/locations/${encodeURIComponent(store.externalId)}/player${query}`), body));
}

function renderTiles() {
  $('stores-count').textContent = `(${state.storesTotal})`;
  const now = currentNow();
  const d = durations();
  $('tiles').replaceChildren(
    ...state.stores.map((store) => {
      const playing = store.nowPlaying;
      const share = playing ? progress(playing, d[playing.audioId], now) : 0;
      return h('article', { class: `tile${store.online ? '' : ' offline'}`, 'data-store': store.externalId },
        h('header', {},
          h('span', { class: 'name', text: store.externalId }),
          h('span', { class: `pill ${store.online ? 'ok' : 'bad'}`, 'data-online': String(store.online), text: store.online ? 'online' : 'offline' })),
        h('div', { class: 'muted', text: `${store.company} · user ${store.userId}` }),
        h('dl', {},
          h('dt', { text: 'Playing' }),
          h('dd', { class: 'playing-name', text: playing ? audioName(playing.audioId) : 'nothing' }),
          playing && [
            h('dt', { text: 'Priority' }), h('dd', { text: playing.priority }),
            h('dt', { text: 'Repeat' }), h('dd', { text: repeatText(playing) }),
            h('dt', { text: 'Volume' }), h('dd', { text: `${playing.volume}%` }),
            h('dt', { text: 'Progress' }),
            h('dd', {}, meter(share, 'low', `${Math.round(share)}% played`)),
          ],
          h('dt', { text: 'Queue' }), h('dd', { class: 'queue-total', text: String(store.queueTotal) })),
        h('p', {},
          h('button', { type: 'button', onclick: () => setPlayer(store, !store.online), text: store.online ? 'Set offline' : 'Set online' })));
    }),
  );
}

function meter(share, level, label) {
  const bar = h('span');
  bar.style.width = `${share}%`;
  return h('div', { class: `meter ${level}`, role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(share), 'aria-label': label, title: label }, bar);
}

function renderTimeline() {
  const spanMs = Number($('span').value);
  const now = currentNow();
  const from = now - spanMs * 0.25;
  const to = from + spanMs;
  const lanes = timeline(state.stores, durations(), now, from, to);
  const marker = h('div', { class: 'now', 'aria-hidden': 'true' });
  const rows = lanes.map((lane) => {
    const track = h('div', { class: 'track' });
    for (const b of lane.blocks) {
      const title = `${audioName(b.audioId)} · ${b.status} · ${b.priority} · ${new Date(b.start).toISOString()} → ${new Date(b.end).toISOString()}`;
      const el = h('div', { class: `blk ${b.status}${b.projected ? ' projected' : ''}`, 'data-send': b.sendId, 'data-status': b.status, title });
      el.style.left = `${b.left}%`;
      el.style.width = `${b.width}%`;
      track.append(el);
    }
    return h('div', { class: 'lane', 'data-store': lane.externalId },
      h('div', { class: 'label', title: `${lane.company} ${lane.externalId}`, text: `${lane.externalId}${lane.online ? '' : ' (offline)'}` }),
      track);
  });
  const axis = h('div', { class: 'track axis', 'aria-hidden': 'true' });
  for (const t of ticks(from, to, 6)) {
    const mark = h('span', { class: 'tick', text: t.label });
    mark.style.left = `${t.left}%`;
    axis.append(mark);
  }
  rows.push(h('div', { class: 'lane axis-lane' }, h('div', { class: 'label muted', text: 'UTC' }), axis));
  const box = $('timeline');
  box.replaceChildren(...rows);
  if (lanes.length > 0) {
    // The marker sits over the tracks: the label column's width, then its place in the window.
    const label = rows[0].firstChild.getBoundingClientRect().width;
    const track = rows[0].lastChild.getBoundingClientRect().width;
    marker.style.left = `${label + (nowAt(now, from, to) / 100) * track}px`;
    box.append(marker);
  } else {
    box.append(h('p', { class: 'muted', text: 'No stores.' }));
  }
}

function statusChip(status) {
  return h('span', { class: `st ${status}`, text: status });
}

function renderLibrary() {
  $('library-count').textContent = `(${state.libraryTotal ?? 0})`;
  const box = $('library');
  if (state.library.length === 0) {
    box.replaceChildren(h('p', { class: 'muted', text: 'No audio yet: upload some through the Musique API.' }));
    return;
  }
  box.replaceChildren(
    ...state.library.map((a) => {
      const sends = state.sends.get(a.id) ?? [];
      return h('article', { class: 'audio', 'data-audio': a.id },
        h('header', { class: 'row' },
          h('strong', { text: a.name }),
          h('span', { class: 'muted', text: `${a.id} · ${a.company} ${a.environment} · ${fmtDuration(a.duration * 1000)} · ${fmtBytes(a.size)}` })),
        h('p', { class: 'stats' },
          'Played ', h('strong', { class: 'times-played', text: String(a.stats.timesPlayed) }), ' times',
          ` · ${a.stats.totalRecipients} recipients`,
          a.stats.lastPlayedAt ? ` · last ${a.stats.lastPlayedAt}` : ''),
        h('audio', { controls: true, preload: 'none', src: a.url, 'aria-label': `Play ${a.name}` }),
        sends.length === 0
          ? h('p', { class: 'muted', text: 'No sends.' })
          : h('ul', { class: 'sends' },
            ...sends.map((s) => h('li', { 'data-send': s.sendId },
              h('code', { text: s.sendId }), ` ${s.status} · ${s.priority} · ×${s.repeat} · `,
              s.scheduleAt ? `at ${s.scheduleAt} · ` : '',
              ...s.destinations.map((d) => h('span', { class: `st ${d.status}`, 'data-dest': d.externalId, text: `${d.externalId}: ${d.status}` }))))));
    }),
  );
}

function renderJournal() {
  $('journal-count').textContent = `(${state.journal.length} shown)`;
  const rows = state.journal.slice().reverse().map((e) => {
    const noted = e.notes.length > 0;
    return h('tr', { class: `${noted ? 'noted' : ''} ${e.status >= 400 ? 'err' : ''}`, 'data-id': e.id },
      h('td', { text: String(e.id) }),
      h('td', { text: e.at }),
      h('td', { text: e.api }),
      h('td', { text: e.method }),
      h('td', { class: 'path', text: e.query ? `${e.path}?${e.query}` : e.path }),
      h('td', { class: 'status', text: String(e.status) }),
      h('td', { text: `${e.latencyMs.toFixed(1)} ms` }),
      h('td', { class: 'rid', text: e.requestId }),
      h('td', {}, ...e.notes.map((n) => h('span', { class: 'note', text: `⚠ ${n}` }))));
  });
  $('journal').replaceChildren(...rows);
}

function renderLimits() {
  const box = $('limits');
  if (state.limits.length === 0) {
    box.replaceChildren(h('p', { class: 'muted', text: 'No keys.' }));
    return;
  }
  box.replaceChildren(
    ...state.limits.map((k) => h('article', { class: 'tile', 'data-key': k.id },
      h('header', {}, h('span', { class: 'name', text: k.label || k.id }), h('span', { class: 'pill', text: k.api })),
      h('div', { class: 'muted', text: [k.lookup + '…', k.company, k.environment, k.tier].filter(Boolean).join(' · ') }),
      k.revoked ? h('p', { text: 'revoked' }) : h('dl', {},
        ...k.windows.map((w) => {
          const g = gauge(w);
          return [
            h('dt', { text: w.window }),
            h('dd', { 'data-window': w.window },
              `${w.used} / ${w.limit} used · resets ${w.resetAt}`,
              meter(g.share, g.level, `${w.window}: ${w.used} of ${w.limit} used`)),
          ];
        }))))
  );
}

function renderControls() {
  const select = $('player-store');
  const chosen = select.value;
  select.replaceChildren(...state.stores.map((s) =>
    h('option', { value: `${s.company}/${s.externalId}`, text: `${s.externalId} (${s.online ? 'online' : 'offline'})` })));
  if (chosen) select.value = chosen;
  $('freeze').disabled = !!state.clock?.frozen;
  $('run').disabled = !state.clock?.frozen;
  const list = $('faults');
  if (state.faults.length === 0) {
    list.replaceChildren(h('li', { class: 'muted', text: 'No faults.' }));
    return;
  }
  list.replaceChildren(...state.faults.map((f) => h('li', { 'data-fault': f.id },
    h('code', { text: `${f.method ?? '*'} ${f.path}` }),
    ` → ${f.status ?? (f.close ? 'close' : '')}${f.latencyMs ? ` +${f.latencyMs} ms` : ''} · fired ${f.fired}${f.remaining != null ? ` · ${f.remaining} left` : ''} `,
    h('button', {
      type: 'button',
      'aria-label': `Remove fault ${f.id}`,
      onclick: async () => {
        if (await confirmDialog(`Remove the fault on ${f.method ?? '*'} ${f.path}?`)) {
          await act('Remove fault', () => api('DELETE', tenantPath(`/faults/${encodeURIComponent(f.id)}`)));
        }
      },
      text: 'Remove',
    }))));
}

// ---------------------------------------------------------------- views and controls

function showView(view, focus) {
  state.view = VIEWS.includes(view) ? view : 'stores';
  for (const v of VIEWS) {
    $(`view-${v}`).hidden = v !== state.view;
    const tab = $(`tab-${v}`);
    tab.setAttribute('aria-selected', String(v === state.view));
    tab.tabIndex = v === state.view ? 0 : -1;
  }
  if (focus) $(`tab-${state.view}`).focus();
  history.replaceState(null, '', `#view=${state.view}&tenant=${encodeURIComponent(state.tenant ?? '')}`);
  if (state.view === 'stores') renderTimeline();
}

function wire() {
  for (const v of VIEWS) $(`tab-${v}`).addEventListener('click', () => showView(v));
  document.querySelector('.tabs').addEventListener('keydown', (e) => {
    const at = VIEWS.indexOf(state.view);
    if (e.key === 'ArrowRight') showView(VIEWS[(at + 1) % VIEWS.length], true);
    else if (e.key === 'ArrowLeft') showView(VIEWS[(at + VIEWS.length - 1) % VIEWS.length], true);
    else if (e.key === 'Home') showView(VIEWS[0], true);
    else if (e.key === 'End') showView(VIEWS[VIEWS.length - 1], true);
    else return;
    e.preventDefault();
  });
  $('tenant').addEventListener('change', (e) => selectTenant(e.target.value));
  $('span').addEventListener('change', renderTimeline);
  window.addEventListener('resize', renderTimeline);
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.token = $('token').value.trim();
    sessionStorage.setItem('soundcheck-admin-token', state.token);
    $('token-form').hidden = true;
    start();
  });
  $('advance-quick').addEventListener('submit', (e) => {
    e.preventDefault();
    const advance = new FormData(e.target).get('advance');
    act('Advance the clock', () => api('POST', tenantPath('/clock'), { advance }));
  });
  $('clock-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(e.target);
    const body = e.submitter?.value === 'at' ? { at: data.get('at') } : { advance: data.get('advance') };
    act('Move the clock', () => api('POST', tenantPath('/clock'), body));
  });
  $('freeze').addEventListener('click', () => act('Freeze', () => api('POST', tenantPath('/clock'), { frozen: true })));
  $('run').addEventListener('click', () => act('Run', () => api('POST', tenantPath('/clock'), { frozen: false })));
  $('player-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const [company, externalId] = String(new FormData(e.target).get('store')).split('/');
    const store = state.stores.find((s) => s.company === company && s.externalId === externalId);
    if (store) setPlayer(store, e.submitter?.value === 'online');
  });
  $('fault-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(e.target);
    const body = { path: data.get('path') };
    const method = String(data.get('method')).trim();
    if (method) body.method = method;
    const status = String(data.get('status')).trim();
    if (status) body.status = Number(status);
    const latency = Number(String(data.get('latencyMs')).trim() || 0);
    if (latency) body.latencyMs = latency;
    const times = String(data.get('times')).trim();
    if (times) body.times = Number(times);
    act('Add a fault', () => api('POST', tenantPath('/faults'), body));
  });
  $('journal-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    state.journalFilter = Object.fromEntries(new FormData(e.target));
    state.journal = [];
    state.journalLast = null;
    scheduleRefresh();
  });
  $('reset').addEventListener('click', async () => {
    if (await confirmDialog(`Reset tenant ${state.tenant}? Its audio, sends, usage, journal and faults go; its keys stay.`)) {
      await act('Reset', async () => {
        await api('POST', tenantPath('/reset'));
        state.journal = [];
        state.journalLast = null;
      });
    }
  });
}

function selectTenant(tenant) {
  state.tenant = tenant;
  state.journal = [];
  state.journalLast = null;
  state.stores = [];
  showView(state.view);
  scheduleRefresh();
  listen(tenant);
}

async function start() {
  try {
    await loadTenants();
    showError('');
  } catch (err) {
    if (!(err instanceof NeedsToken)) showError(err.message);
    return;
  }
  selectTenant(state.tenant);
}

const hash = new URLSearchParams(location.hash.slice(1));
state.view = hash.get('view') || 'stores';
state.tenant = hash.get('tenant') || null;
wire();
showView(state.view);
start();
