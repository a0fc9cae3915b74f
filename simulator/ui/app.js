// The nukisim dashboard: a client of the control plane (/sim/v1), nothing more. Every control
// is one control-plane call; what the page shows is what the control plane answers. Changes
// made by anyone (the page, a test, curl) arrive through GET /sim/v1/changes, polled.
'use strict';

const POLL_MS = 1000;
const PAGE_SIZE = 50;

const S = {
  since: 0,          // the last change seen (GET /sim/v1/changes)
  journal: -1,       // the journal's revision when last read
  lockSeq: 0,        // the latest lock load sent (an older answer is dropped)
  timer: null,       // the next poll
  minute: '',        // the clock's minute when last read
  q: '',
  offset: 0,
  total: 0,
  cards: [],
  selected: null,    // smartlockId
  device: null,
  clock: null,       // {now, epochSeconds, virtual}
  polling: false,
  fleetShown: false,
  searchSeq: 0,
  renders: 0,
};

const $ = (id) => document.getElementById(id);

// ---- Elements, built from data with textContent only (nothing the server says is HTML)

function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function setStatus(text, isError) {
  const s = $('status');
  s.textContent = text || '';
  s.className = isError ? 'error' : '';
}

// ---- The control plane

class Unauthorized extends Error {}
class HttpError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body, signal) {
  const init = {method, headers: {'X-Nukisim-UI': '1'}, credentials: 'same-origin', signal};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 401) throw new Unauthorized('signed out');
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    throw new Error(method + ' ' + path + ': not JSON (' + r.status + ')');
  }
  if (!r.ok) {
    const m = data && data.error ? data.error.message : 'HTTP ' + r.status;
    throw new HttpError(m, r.status);
  }
  return {data, headers: r.headers};
}

// Runs one control, shows what went wrong if it did, and refreshes what it changed.
async function control(what, method, path, body) {
  try {
    const r = await api(method, path, body);
    setStatus(what);
    await refresh(true);
    return r.data;
  } catch (e) {
    if (e instanceof Unauthorized) return showLogin();
    setStatus(what + ' failed: ' + e.message, true);
    return null;
  }
}

// ---- Time, shown in the lock's own zone

const formats = new Map();
function format(zone, withDate) {
  const key = zone + (withDate ? '|d' : '');
  if (!formats.has(key)) {
    const opts = {hour: '2-digit', minute: '2-digit', hourCycle: 'h23'};
    if (withDate) Object.assign(opts, {year: 'numeric', month: '2-digit', day: '2-digit'});
    let f;
    try {
      f = new Intl.DateTimeFormat('en-CA', Object.assign({timeZone: zone}, opts));
    } catch (e) {
      f = new Intl.DateTimeFormat('en-CA', Object.assign({timeZone: 'UTC'}, opts));
    }
    formats.set(key, f);
  }
  return formats.get(key);
}

// "14:02" if on the same local day as now, else "2026-12-03 14:02".
function when(iso, zone) {
  if (!iso) return '—';
  const t = new Date(iso);
  const day = (d) => format(zone, true).format(d).slice(0, 10);
  const sameDay = S.clock && day(new Date(S.clock.now)) === day(t);
  return sameDay ? format(zone, false).format(t) : format(zone, true).format(t).replace(',', '');
}

function whenMs(ms, zone) {
  return when(new Date(ms).toISOString(), zone);
}

// "90s", "15m", "2h", "1d", "1h30m" → seconds, or null.
function parseDuration(text) {
  const t = text.replace(/\s+/g, '').toLowerCase();
  if (/^\d+$/.test(t)) return Number(t) > 0 ? Number(t) : null;
  if (!/^(\d+[dhms])+$/.test(t)) return null;
  let total = 0;
  for (const m of t.matchAll(/(\d+)([dhms])/g)) total += Number(m[1]) * {d: 86400, h: 3600, m: 60, s: 1}[m[2]];
  return total > 0 ? total : null;
}

const MOTOR = {1: 'locked', 2: 'unlocking', 3: 'unlocked', 4: 'locking', 5: 'unlatched',
  6: "unlocked (lock 'n' go)", 7: 'unlatching', 254: 'motor blocked'};
const ACTION = {1: 'unlock', 2: 'lock', 3: 'unlatch', 4: "lock 'n' go", 5: "lock 'n' go with unlatch"};
const TRIGGER = {0: 'system', 1: 'manual', 2: 'button', 3: 'automatic', 4: 'web', 5: 'app',
  6: 'auto lock', 7: 'accessory', 255: 'keypad'};
const REASON = {
  UNKNOWN_CODE: 'no such code on the lock',
  OUTSIDE_SCHEDULE: "the code's schedule does not allow this moment",
  DISABLED: 'the code is disabled',
  JAMMED: 'the motor is jammed',
};

// ---- The clock

function renderClock() {
  const c = S.clock;
  if (!c) return;
  $('clock').textContent = (c.virtual ? 'virtual time ' : 'real time ') +
      c.now.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC');
  $('clock').dataset.now = c.now;
  $('advance').hidden = !S.polling && $('app').hidden;
  for (const id of ['advance-by', 'advance-go', 'advance-sync']) $(id).disabled = !c.virtual;
  $('advance').title = c.virtual ? '' : 'nukisim runs on the wall clock (--clock real): time cannot be advanced';
}

async function advance(body, what) {
  const r = await control(what, 'POST', '/sim/v1/clock/advance', body);
  if (r) setStatus(what + ': now ' + r.now.replace('T', ' ').replace('Z', ' UTC'));
}

// ---- The fleet

function fleetPath() {
  const p = new URLSearchParams({q: S.q, offset: String(S.offset), limit: String(PAGE_SIZE)});
  return '/sim/v1/smartlocks?' + p.toString();
}

async function loadFleet() {
  const seq = ++S.searchSeq;
  const r = await api('GET', fleetPath());
  if (seq !== S.searchSeq) return false;  // a newer search has been sent meanwhile
  S.cards = r.data;
  S.total = Number(r.headers.get('X-Total-Count') || r.data.length);
  if (S.offset > 0 && S.offset >= S.total) {
    S.offset = Math.max(0, Math.floor((S.total - 1) / PAGE_SIZE) * PAGE_SIZE);
    return loadFleet();
  }
  renderFleet();
  return true;
}

function card(l) {
  const badges = [
    h('span', {class: 'badge ' + (l.online ? 'ok' : 'off')}, l.online ? 'on line' : 'off line'),
    h('span', {class: 'badge'}, MOTOR[l.state] || 'state ' + l.state),
    h('span', {class: 'badge' + (l.batteryCharge <= 20 ? ' warn' : '')}, 'battery ' + l.batteryCharge + ' %'),
    l.jammed ? h('span', {class: 'badge warn'}, 'jammed') : null,
  ];
  return h('li', {class: 'card' + (l.smartlockId === S.selected ? ' selected' : ''),
                  dataset: {id: String(l.smartlockId)}},
      h('button', {type: 'button', onclick: () => select(l.smartlockId)},
          h('strong', {class: 'name'}, l.name),
          h('span', {class: 'model'}, 'Smart Lock ' + l.model +
              (l.bridgeId ? ' · bridge ' + l.bridgeId : ' · Wi-Fi')),
          h('span', {class: 'badges'}, badges),
          h('span', {class: 'time'}, l.timezone + ' · ' + (l.localTime || '').replace('T', ' ') +
              ' · next sync ' + when(l.nextSync, l.timezone))));
}

function renderFleet() {
  const list = $('cards');
  list.replaceChildren(...S.cards.map(card));
  const first = S.total === 0 ? 0 : S.offset + 1;
  const last = S.offset + S.cards.length;
  $('count').textContent = S.total === 0
      ? (S.q ? 'No lock matches “' + S.q + '”.' : 'No locks yet: load a fleet (nukisim --fleet FILE, or POST /sim/v1/fleet).')
      : first + '–' + last + ' of ' + S.total + (S.q ? ' matching “' + S.q + '”' : ' locks');
  $('page').textContent = S.total > PAGE_SIZE
      ? 'page ' + (Math.floor(S.offset / PAGE_SIZE) + 1) + ' of ' + Math.ceil(S.total / PAGE_SIZE) : '';
  $('prev').disabled = S.offset === 0;
  $('next').disabled = last >= S.total;
  S.renders++;
  document.body.dataset.renders = String(S.renders);
  // For the benchmark (tools/bench/dashboard.cc): the frame that first shows the fleet.
  if (!S.fleetShown) {
    S.fleetShown = true;
    requestAnimationFrame(() => performance.mark('fleet-first-paint'));
  }
}

// ---- One lock

function select(id) {
  S.selected = id;
  history.replaceState(null, '', '#lock=' + id);
  for (const c of document.querySelectorAll('#cards .card'))
    c.classList.toggle('selected', c.dataset.id === String(id));
  $('keypad-result').textContent = '';
  loadLock().catch(handleError);
}

async function loadLock() {
  if (S.selected === null) return;
  const id = S.selected;
  const seq = ++S.lockSeq;
  let device, journal;
  try {
    [device, journal] = await Promise.all([
      api('GET', '/sim/v1/smartlocks/' + id + '/device'),
      api('GET', '/sim/v1/journal?smartlockId=' + id + '&last=40'),
    ]);
  } catch (e) {
    if (e instanceof HttpError && e.status === 404 && S.selected === id) {
      // The lock went away (a reset, a new fleet): say so instead of showing stale truth.
      S.selected = null;
      S.device = null;
      $('lock-view').hidden = true;
      $('lock-hint').hidden = false;
      $('lock-hint').textContent = 'Lock ' + id + ': ' + e.message;
      return;
    }
    throw e;
  }
  if (S.selected !== id || seq !== S.lockSeq) return;  // another lock, or a newer load
  S.device = device.data;
  renderLock(device.data, journal.data.entries);
}

function fact(label, value, cls) {
  return [h('dt', {}, label), h('dd', {class: cls}, value)];
}

function renderLock(d, journal) {
  const zone = d.timezone;
  $('lock-hint').hidden = true;
  $('lock-view').hidden = false;
  $('lock-view').dataset.id = String(d.smartlockId);
  $('lock-name').textContent = d.name;
  $('lock-facts').textContent = 'Smart Lock ' + d.model + ' · smartlockId ' + d.smartlockId +
      ' · account ' + d.accountId + (d.bridgeId ? ' · bridge ' + d.bridgeId : ' · own Wi-Fi');
  $('lock-state').replaceChildren(
      ...fact('Connection', d.online ? 'on line' : 'off line', d.online ? 'ok' : 'off'),
      ...fact('Motor', (MOTOR[d.state] || d.state) + (d.motorBusy ? ' (running)' : ''), 'motor'),
      ...fact('Battery', d.batteryCharge + ' %' + (d.batteryCritical ? ' (critical)' : ''),
              d.batteryCritical ? 'warn' : ''),
      ...fact('Jam', d.jammed ? 'jammed' : 'free', d.jammed ? 'warn' : ''),
      ...fact('Time zone', zone + ', local time ' + (d.localTime || '').replace('T', ' ')),
      ...fact('Next daily sync', d.nextSync ? when(d.nextSync, zone) + ' (daily at ' + d.syncAt + ')' : '—'),
      ...fact('Not yet reported', d.unreportedLogs + ' log entries'));
  $('ctl-online').textContent = d.online ? 'Take off line' : 'Bring on line';
  $('ctl-online').dataset.online = String(d.online);
  $('ctl-jam').textContent = d.jammed ? 'Free the motor' : 'Jam the motor';
  if (document.activeElement !== $('ctl-battery')) $('ctl-battery').value = d.batteryCharge;
  renderCodes(d);
  $('queue').replaceChildren(...(d.queue.length ? d.queue.map((c) => h('li', {},
      c.kind === 'motor' ? 'motor: ' + (ACTION[c.action] || c.action)
                         : c.kind + ' ' + (c.name ? '“' + c.name + '” ' : '') + '(auth ' + c.authId + ')',
      ' · ready ' + when(c.readyAt, zone))) : [h('li', {class: 'empty'},
      d.online ? 'empty' : 'empty (the lock is off line: commands from Nuki Web wait here)')]));
  $('tries').replaceChildren(...(d.keypadTries.length ? d.keypadTries.slice().reverse().map((t) =>
      h('li', {class: t.granted ? 'ok' : 'refused'}, when(t.at, zone) + ' · ' + t.code + ' · ',
          t.granted ? 'granted' : 'refused: ' + t.reason + ' (' + (REASON[t.reason] || t.reason) + ')'))
      : [h('li', {class: 'empty'}, 'none yet')]));
  $('logs').replaceChildren(...(d.logs.length ? d.logs.map((e) => h('li', {},
      when(e.date, zone) + ' · ' + (ACTION[e.action] || 'action ' + e.action) + ' · ' +
      (TRIGGER[e.trigger] || 'trigger ' + e.trigger) + (e.name ? ' · ' + e.name : '') +
      (e.state === 0 ? '' : e.state === 224 ? ' · wrong code' : e.state === 1 ? ' · motor blocked' : ' · state ' + e.state) +
      (e.reported ? '' : ' · not yet reported'))) : [h('li', {class: 'empty'}, 'none yet')]));
  $('journal').replaceChildren(...(journal.length ? journal.slice().reverse().map((e) => h('li',
      {class: e.type === 'webhook' ? (e.status >= 200 && e.status < 300 ? 'ok' : 'refused') : ''},
      when(e.at, zone) + ' · ' + (e.type === 'webhook'
          ? 'webhook ' + e.feature + ' to ' + e.url + ' → ' + (e.status || e.error || 'in flight') +
            ' (attempt ' + e.attempt + ')'
          : e.method + ' ' + e.path + ' → ' + e.status + (e.fault ? ' (fault)' : ''))))
      : [h('li', {class: 'empty'}, 'nothing yet')]));
  S.renders++;
  document.body.dataset.renders = String(S.renders);
}

// One row per code id, the device truth beside the web view, and why they differ.
function renderCodes(d) {
  const zone = d.timezone;
  const rows = new Map();
  const row = (id) => {
    if (!rows.has(id)) rows.set(id, {id});
    return rows.get(id);
  };
  for (const c of d.codes) row(c.id).device = c;
  for (const c of d.webCodes) row(c.id).web = c;
  for (const p of d.pendingChanges) row(p.authId).pending = p;
  const sync = d.nextSync ? 'the sync at ' + when(d.nextSync, zone) : 'the next sync';
  const shown = (c) => c ? c.code + (c.enabled ? '' : ' (disabled)') : '—';
  const tbody = $('codes').tBodies[0];
  const out = [];
  for (const r of rows.values()) {
    const dev = r.device, web = r.web, p = r.pending;
    const name = (dev || web || (p && p.auth) || {}).name || '';
    let why = '', cls = '';
    if (p && !p.delivered) {
      cls = 'queued';
      why = p.kind.replace('auth', '').toLowerCase() + ' accepted by Nuki Web, waiting in the queue' +
          (d.online ? '' : ' until the lock is back on line');
    } else if (dev && !web) {
      cls = 'differs';
      why = (p ? 'added ' + whenMs(dev.createdMs, zone) + ' through Nuki Web'
               : 'added on the lock ' + whenMs(dev.createdMs, zone)) + ', shows after ' + sync;
    } else if (web && !dev) {
      cls = 'differs';
      why = (p ? 'deleted through Nuki Web' : 'removed on the lock') + ', goes from Nuki Web at ' + sync;
    } else if (!dev && !web && p && p.kind === 'authCreate') {
      cls = 'differs';
      why = p.kind.replace('auth', '').toLowerCase() + ' delivered, then removed on the lock: ' +
          'settles at ' + sync;
    } else if (dev && web && !sameCode(dev, web)) {
      cls = 'differs';
      why = 'changed ' + whenMs(dev.updatedMs, zone) + '; Nuki Web shows the old one until ' + sync;
    }
    const p2 = p && p.auth;
    out.push(h('tr', {class: cls, dataset: {id: r.id}},
        h('td', {}, name), h('td', {}, (dev || web || p2 || {}).code || ''),
        h('td', {class: 'device'}, dev ? shown(dev) : p2 && !p.delivered ? 'not yet (' + shown(p2) + ' queued)' : '—'),
        h('td', {class: 'web'}, shown(web)),
        h('td', {class: 'why'}, why),
        h('td', {}, dev ? h('button', {type: 'button', title: 'as if removed with the app over Bluetooth',
            onclick: () => control('Removed ' + dev.code + ' on the lock', 'DELETE',
                '/sim/v1/smartlocks/' + d.smartlockId + '/device-codes/' + dev.code)}, 'Remove on lock') : '')));
  }
  if (out.length === 0) out.push(h('tr', {class: 'empty'}, h('td', {colspan: 6}, 'no keypad codes')));
  tbody.replaceChildren(...out);
}

function sameCode(a, b) {
  return a.code === b.code && a.name === b.name && a.enabled === b.enabled &&
      a.allowedFromDate === b.allowedFromDate && a.allowedUntilDate === b.allowedUntilDate &&
      a.allowedWeekDays === b.allowedWeekDays && a.allowedFromTime === b.allowedFromTime &&
      a.allowedUntilTime === b.allowedUntilTime;
}

// ---- Live: the changes feed

async function refresh(force) {
  const c = (await api('GET', '/sim/v1/changes?since=' + S.since)).data;
  S.clock = {now: c.now, epochSeconds: c.epochSeconds, virtual: c.virtual};
  renderClock();
  const changed = new Set(c.smartlockIds.map(String));
  const all = !c.complete || c.fleet;
  const visible = S.cards.some((l) => changed.has(String(l.smartlockId)));
  const journalMoved = c.journalRevision !== S.journal;
  // The local times shown are to the minute: a new minute reads them again, even if no lock
  // changed (an advance with no event in it, or the wall clock).
  const minute = c.now.slice(0, 16);
  const newMinute = minute !== S.minute;
  S.minute = minute;
  const work = [];
  if (force || all || visible || newMinute) work.push(loadFleet());
  if (S.selected !== null &&
      (force || all || journalMoved || newMinute || changed.has(String(S.selected))))
    work.push(loadLock());
  await Promise.all(work);
  // Only once what changed has been read: a failed read is tried again at the next poll.
  S.since = c.seq;
  S.journal = c.journalRevision;
}

async function poll() {
  if (!S.polling) return;
  try {
    await refresh(false);
    if (!S.polling) return;  // signed out meanwhile
    if ($('status').dataset.down) {
      delete $('status').dataset.down;
      setStatus('');
    }
  } catch (e) {
    if (e instanceof Unauthorized) return showLogin();
    $('status').dataset.down = '1';
    setStatus('nukisim is not answering (' + e.message + '); trying again', true);
  }
  schedulePoll();
}

function schedulePoll() {
  clearTimeout(S.timer);
  S.timer = setTimeout(poll, POLL_MS);
}

function handleError(e) {
  if (e instanceof Unauthorized) return showLogin();
  setStatus(e.message, true);
}

// ---- Signing in and out

function showLogin() {
  S.polling = false;
  clearTimeout(S.timer);
  $('app').hidden = true;
  $('logout').hidden = true;
  $('advance').hidden = true;
  $('login').hidden = false;
  $('token').focus();
}

async function start() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  const m = /^#lock=(\d+)$/.exec(location.hash);
  if (m) S.selected = Number(m[1]);
  await refresh(true);
  S.polling = true;
  schedulePoll();
}

async function signIn(event) {
  event.preventDefault();
  $('login-error').textContent = '';
  const r = await fetch('/sim/ui/login', {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-Nukisim-UI': '1'},
      body: JSON.stringify({token: $('token').value})});
  $('token').value = '';
  if (r.status !== 204) {
    const d = await r.json().catch(() => null);
    $('login-error').textContent = d && d.error ? d.error.message : 'HTTP ' + r.status;
    return;
  }
  start().catch(handleError);
}

async function signOut() {
  await fetch('/sim/ui/logout', {method: 'POST', credentials: 'same-origin', headers: {'X-Nukisim-UI': '1'}});
  showLogin();
}

// ---- Wiring

function lockPath(tail) {
  return '/sim/v1/smartlocks/' + S.selected + tail;
}

function wire() {
  $('login-form').addEventListener('submit', signIn);
  $('logout').addEventListener('click', signOut);
  $('search').addEventListener('input', () => {
    performance.mark('search-input');
    S.q = $('search').value.trim();
    S.offset = 0;
    // The benchmark reads 'search': from the keystroke to the frame that shows its result.
    loadFleet().then((done) => {
      if (done) requestAnimationFrame(() => performance.measure('search', 'search-input'));
    }).catch(handleError);
  });
  $('prev').addEventListener('click', () => {
    S.offset = Math.max(0, S.offset - PAGE_SIZE);
    loadFleet().catch(handleError);
  });
  $('next').addEventListener('click', () => {
    S.offset += PAGE_SIZE;
    loadFleet().catch(handleError);
  });
  $('advance').addEventListener('submit', (e) => {
    e.preventDefault();
    const seconds = parseDuration($('advance-by').value);
    if (!seconds) return setStatus('Advance by what? Give a duration: 90s, 15m, 2h, 1d or 1h30m', true);
    advance({seconds}, 'Advanced ' + $('advance-by').value.trim());
  });
  $('advance-sync').addEventListener('click', () => {
    const next = S.device ? S.device.nextSync
        : S.cards.map((l) => l.nextSync).filter(Boolean).sort()[0];
    if (!next) return setStatus('No lock with a daily sync to advance to', true);
    advance({to: next}, 'Advanced to the next sync');
  });
  $('ctl-online').addEventListener('click', () => {
    const online = $('ctl-online').dataset.online !== 'true';
    control(online ? 'Brought on line' : 'Taken off line', 'POST', lockPath('/connectivity'), {online});
  });
  $('ctl-jam').addEventListener('click', () => {
    const jammed = !(S.device && S.device.jammed);
    control(jammed ? 'Jammed the motor' : 'Freed the motor', 'POST', lockPath('/jam'), {jammed});
  });
  $('ctl-battery-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const charge = Number($('ctl-battery').value);
    if (!Number.isInteger(charge) || charge < 0 || charge > 100)
      return setStatus('Battery: give a whole number from 0 to 100', true);
    control('Battery set to ' + charge + ' %', 'POST', lockPath('/battery'), {charge});
  });
  $('ctl-sync').addEventListener('click', () => control('Synced', 'POST', lockPath('/sync')));
  $('ctl-keypad-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('ctl-keypad').value.trim();
    if (!/^\d{1,9}$/.test(text)) return setStatus('Keypad: type up to nine digits', true);
    const r = await control('Typed ' + text, 'POST', lockPath('/keypad'), {code: Number(text)});
    if (!r) return;
    const out = $('keypad-result');
    out.textContent = r.granted ? text + ': granted' : text + ': refused, ' + r.reason + ' (' + (REASON[r.reason] || r.reason) + ')';
    out.className = r.granted ? 'ok' : 'refused';
    out.dataset.granted = String(r.granted);
  });
  $('ctl-knob-lock').addEventListener('click', () => control('Turned the knob to lock', 'POST', lockPath('/manual'), {action: 'lock'}));
  $('ctl-knob-unlock').addEventListener('click', () => control('Turned the knob to unlock', 'POST', lockPath('/manual'), {action: 'unlock'}));
  $('ctl-addcode-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('ctl-addcode-name').value.trim();
    const code = $('ctl-addcode-code').value.trim();
    if (!name || !/^\d+$/.test(code)) return setStatus('Add a code: give a name and the digits', true);
    control('Added ' + code + ' on the lock', 'POST', lockPath('/device-codes'), {name, code: Number(code)});
  });
}

async function boot() {
  const r = await fetch('/sim/ui/session', {credentials: 'same-origin'});
  const d = await r.json();
  if (d.signedIn) return start();
  showLogin();
}

wire();
boot().catch(handleError);
