// mozaiek analysts' console. Plain DOM, no framework, no external requests
// but the login's to the OpenID Connect provider the service names.
// Alert fields come from partners: everything is rendered with textContent
// and DOM nodes, never as HTML. The access token lives in this closure only
// (never in storage or a cookie): a reload logs in again.
'use strict';

(() => {
  const MAX_ALERTS = 500;
  const INITIAL_LIMIT = 200;
  const STATUS_OF_ACTION = { ack: 'acknowledged', dismiss: 'dismissed', escalate: 'escalated' };

  const $ = (id) => document.getElementById(id);

  // alert_id -> alert (v1 JSON); `order` holds ids newest first.
  const alerts = new Map();
  let order = [];
  const fresh = new Set();
  let selectedId = null;

  // ---- small DOM helpers -------------------------------------------------

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function cell(row, text, cls) {
    const td = el('td', text, cls);
    row.appendChild(td);
    return td;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // A table body with nothing to list says so.
  function noneRow(body, text) {
    if (body.rows.length > 0) return;
    const tr = document.createElement('tr');
    const td = cell(tr, text, 'muted');
    td.colSpan = body.parentElement.tHead.rows[0].cells.length;
    body.appendChild(tr);
  }

  function addField(dl, name, value, title) {
    dl.appendChild(el('dt', name));
    const dd = el('dd', value);
    if (title) dd.title = title;
    dl.appendChild(dd);
    return dd;
  }

  function button(text, onClick, cls) {
    const b = el('button', text, cls);
    b.type = 'button';
    b.addEventListener('click', (ev) => {
      ev.stopPropagation();
      onClick();
    });
    return b;
  }

  // ---- formatting --------------------------------------------------------

  function formatTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  // The two largest units: "42 s", "5 min", "3 h 12 min", "14 d 6 h".
  function formatDuration(seconds) {
    const s = Math.max(0, Math.round(Number(seconds) || 0));
    if (s < 60) return `${s} s`;
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d) return h ? `${d} d ${h} h` : `${d} d`;
    if (h) return m ? `${h} h ${m} min` : `${h} h`;
    return `${m} min`;
  }

  function formatNumber(x, digits) {
    const n = Number(x);
    return Number.isFinite(n) ? n.toFixed(digits) : '';
  }

  // Persons are shown by a shortened pseudonym; the full key is on hover.
  function subjectLabel(type, key, full) {
    const k = String(key || '');
    if (!full && type === 'person' && k.length > 12) return `${type} ${k.slice(0, 12)}…`;
    return `${type} ${k}`;
  }

  function subjectNode(type, key) {
    const span = el('span', subjectLabel(type, key, false), 'mono');
    span.title = `${type} ${key}`;
    return span;
  }

  function isEntityType(type) {
    return type === 'person' || type === 'vehicle' || type === 'location';
  }


  // ---- login (OpenID Connect, authorisation code + PKCE) -----------------

  const LOGIN_KEY = 'mozaiek.login';  // state, nonce, verifier across the redirect; never a token
  let token = null;                   // the access token: memory only
  let provider = null;                // /api/auth/config's oidc, or null (demo)
  let me = null;                      // /api/whoami
  let streamAbort = null;
  let forceLogin = false;             // after a log-out, the provider asks again

  function base64url(bytes) {
    let text = '';
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function randomText() {
    return base64url(crypto.getRandomValues(new Uint8Array(32)));
  }

  async function challengeOf(verifier) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
    return base64url(new Uint8Array(digest));
  }

  function claimsOf(jwt) {
    const part = String(jwt || '').split('.')[1];
    if (!part) return null;
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const text = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  }

  function redirectUri() {
    return `${window.location.origin}/`;
  }

  async function discovery() {
    const url = `${provider.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { cache: 'no-store' });
    if (!res.ok) throw new Error(`the provider's discovery answered HTTP ${res.status}`);
    const doc = await res.json();
    if (doc.issuer !== provider.issuer) throw new Error('the provider names another issuer');
    return doc;
  }

  async function logIn() {
    showLoginMessage('Going to the login page…');
    try {
      const doc = await discovery();
      const pending = { state: randomText(), nonce: randomText(), verifier: randomText() };
      sessionStorage.setItem(LOGIN_KEY, JSON.stringify(pending));
      const q = new URLSearchParams({
        client_id: provider.client_id,
        response_type: 'code',
        redirect_uri: redirectUri(),
        scope: (provider.scopes || ['openid']).join(' '),
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await challengeOf(pending.verifier),
        code_challenge_method: 'S256',
      });
      if (forceLogin) q.set('prompt', 'login');
      window.location.assign(`${doc.authorization_endpoint}?${q}`);
    } catch (e) {
      showLoginMessage(`Cannot log in: ${e.message}`);
    }
  }

  // Back from the provider with ?code=&state=: checks state and nonce and
  // trades the code (with the PKCE verifier) for the tokens.
  async function finishLogin(params) {
    const pending = JSON.parse(sessionStorage.getItem(LOGIN_KEY) || 'null');
    sessionStorage.removeItem(LOGIN_KEY);
    window.history.replaceState(null, '', '/');
    if (params.get('error')) {
      throw new Error(`the provider refused: ${params.get('error_description') || params.get('error')}`);
    }
    if (!pending || params.get('state') !== pending.state) {
      throw new Error('the answer does not belong to a login of this page (state)');
    }
    const doc = await discovery();
    const res = await fetch(doc.token_endpoint, {
      method: 'POST',
      cache: 'no-store',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: params.get('code') || '',
        redirect_uri: redirectUri(),
        client_id: provider.client_id,
        code_verifier: pending.verifier,
      }),
    });
    if (!res.ok) throw new Error(`the provider's token endpoint answered HTTP ${res.status}`);
    const tokens = await res.json();
    const id = claimsOf(tokens.id_token);
    if (!id || id.nonce !== pending.nonce) {
      throw new Error('the ID token does not carry this login\'s nonce');
    }
    const aud = Array.isArray(id.aud) ? id.aud : [id.aud];
    if (id.iss !== provider.issuer || !aud.includes(provider.client_id)) {
      throw new Error('the ID token is not from the provider for this console');
    }
    if (typeof tokens.access_token !== 'string') throw new Error('no access token');
    token = tokens.access_token;
  }

  function showLoginMessage(text) {
    $('login-message').textContent = text;
  }

  function showLoginScreen(text) {
    $('login').hidden = false;
    $('app').hidden = true;
    $('who').hidden = true;
    showLoginMessage(text);
    $('login-button').focus();
  }

  function stopStream() {
    if (streamAbort) streamAbort.abort();
    streamAbort = null;
  }

  function logOut() {
    token = null;
    me = null;
    forceLogin = true;
    stopStream();
    showLoginScreen('Logged out. The token is forgotten.');
  }

  // The service said 401: the token expired or was refused.
  function sessionEnded() {
    if (!provider) return;
    token = null;
    stopStream();
    showLoginScreen('Your session has ended; log in again.');
  }

  // Every API call: the bearer token when logged in; 401 ends the session.
  async function api(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(path, Object.assign({ cache: 'no-store' }, options, { headers }));
    if (res.status === 401) sessionEnded();
    return res;
  }

  function refusedText(res, what) {
    if (res.status === 403) {
      return `${what}: your roles (${(me && me.roles.join(', ')) || 'none'}) do not allow this.`;
    }
    return null;
  }

  function mayView(what) {
    return Boolean(me && me.may && me.may[what]);
  }

  function showIdentity() {
    $('who').hidden = false;
    $('who-name').textContent = me.name;
    $('who-roles').textContent = me.roles.length ? me.roles.join(', ') : 'no roles';
    $('who-via').textContent = me.via === 'demo' ? 'demo identity, no login' : `via ${me.via}`;
    $('logout').hidden = !provider;
  }

  // Hides what the roles do not open; the service refuses it anyway.
  function applyRoles() {
    const may = me.may || {};
    $('alerts-list').hidden = !may.alerts;
    $('no-view').hidden = Boolean(may.alerts || may.rules || may.audit || may.entities);
    $('open-entity').hidden = !may.entities;
    $('action-block').hidden = !may.actions;
    $('tab-alerts').hidden = !(may.alerts || may.entities);
    $('tab-rules').hidden = !may.rules;
    $('tab-audit').hidden = !may.audit;
    $('stream-health').hidden = !may.alerts;
    const first = may.alerts || may.entities ? 'alerts' : may.rules ? 'rules' : may.audit ? 'audit' : null;
    if (first) showTab(first); else showTab(null);
  }

  async function whoami() {
    const res = await api('/api/whoami');
    if (res.status === 401) return false;
    if (res.status === 403) {
      me = { name: provider ? 'you' : '', roles: [], via: '', may: {} };
      showLoginScreen('You are logged in, but hold none of mozaiek\'s roles.');
      return false;
    }
    if (!res.ok) throw new Error(`/api/whoami answered ${await errorText(res)}`);
    me = await res.json();
    return true;
  }

  async function enter() {
    if (!(await whoami())) return;
    $('login').hidden = true;
    $('app').hidden = false;
    showIdentity();
    applyRoles();
    if (me.may && me.may.alerts) followStream();
  }

  // ---- tabs and health ---------------------------------------------------

  function showTab(name) {
    for (const view of ['alerts', 'rules', 'audit']) {
      $(`${view}-view`).hidden = view !== name;
      $(`tab-${view}`).setAttribute('aria-pressed', String(view === name));
    }
    if (name === 'rules') loadRules();
  }

  async function checkReady() {
    const out = $('ready-state');
    try {
      const res = await fetch('/readyz', { cache: 'no-store' });
      out.textContent = res.ok ? 'ready' : `not ready (HTTP ${res.status})`;
      out.className = res.ok ? 'ok' : 'bad';
    } catch (e) {
      out.textContent = 'unreachable';
      out.className = 'bad';
    }
  }

  // ---- alert list --------------------------------------------------------

  function statusOf(a) {
    return a.status || 'new';
  }

  // Level 0 is the first alert of an episode, higher levels are re-raises
  // after the score rose by the rule's escalation step.
  function levelStatus(a) {
    return `level ${Number(a.level) || 0} · ${statusOf(a)}`;
  }

  function upsert(alert, live) {
    if (!alert || typeof alert.alert_id !== 'string') return;
    const id = alert.alert_id;
    const known = alerts.get(id);
    // A re-sent alert replaces the old one; keep actions the stream already told us of.
    if (known && Array.isArray(known.actions) && !Array.isArray(alert.actions)) {
      alert.actions = known.actions;
    }
    alerts.set(id, alert);
    if (!known) {
      if (live) order.unshift(id); else order.push(id);
    }
    if (live) fresh.add(id);
    while (order.length > MAX_ALERTS) {
      const old = order.pop();
      alerts.delete(old);
      fresh.delete(old);
    }
  }

  function applyAction(record) {
    if (!record || typeof record.alert_id !== 'string') return;
    const a = alerts.get(record.alert_id);
    if (!a) return;
    const actions = Array.isArray(a.actions) ? a.actions : [];
    const dup = actions.some((x) => x.at === record.at && x.action === record.action &&
                                     x.user === record.user);
    if (!dup) {
      actions.push({ action: record.action, user: record.user, reason: record.reason,
                     at: record.at });
    }
    a.actions = actions;
    if (STATUS_OF_ACTION[record.action]) a.status = STATUS_OF_ACTION[record.action];
  }

  function addOption(select, value) {
    for (const o of select.options) if (o.value === value) return;
    select.appendChild(new Option(value, value));
  }

  function renderAlerts() {
    const rule = $('filter-rule').value;
    const type = $('filter-type').value;
    const body = $('alerts-body');
    // Live alerts re-render the list; keyboard focus stays on its row.
    const focused = body.contains(document.activeElement) ? document.activeElement.dataset.alertId : null;
    let refocus = null;
    clear(body);
    let shown = 0;
    for (const id of order) {
      const a = alerts.get(id);
      const subject = a.subject || {};
      addOption($('filter-rule'), String(a.rule));
      addOption($('filter-type'), String(subject.type));
      if (rule && a.rule !== rule) continue;
      if (type && subject.type !== type) continue;
      shown += 1;
      const tr = document.createElement('tr');
      tr.dataset.alertId = id;
      tr.tabIndex = 0;
      if (fresh.has(id)) tr.classList.add('fresh');
      if (id === selectedId) tr.classList.add('selected');
      tr.classList.add(`status-${statusOf(a)}`);
      cell(tr, formatTime(a.raised_at)).title = String(a.raised_at || '');
      cell(tr, a.rule);
      cell(tr, '').appendChild(subjectNode(subject.type, subject.key));
      cell(tr, formatNumber(a.score, 2), 'num');
      cell(tr, Array.isArray(a.sources) ? a.sources.join(', ') : '');
      cell(tr, levelStatus(a), 'status');
      tr.addEventListener('click', () => openAlert(id));
      tr.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          openAlert(id);
        }
      });
      body.appendChild(tr);
      if (id === focused) refocus = tr;
    }
    if (refocus) refocus.focus();
    $('alert-count').textContent = `${shown} of ${order.length} alerts shown`;
    $('alerts-empty').hidden = order.length > 0;
  }

  function showListError(text) {
    const p = $('alerts-error');
    p.textContent = text;
    p.hidden = !text;
  }

  async function errorText(res) {
    try {
      const body = await res.json();
      if (body && typeof body.error === 'string') return body.error;
    } catch (e) {
      // not JSON: fall through to the status line
    }
    return `HTTP ${res.status}`;
  }

  async function loadAlerts() {
    try {
      const res = await api(`/api/alerts?limit=${INITIAL_LIMIT}`);
      if (!res.ok) {
        showListError(refusedText(res, 'Alerts') ||
                      `Alerts could not be loaded: ${await errorText(res)}`);
        return;
      }
      const list = await res.json();
      for (const a of list) if (!alerts.has(a.alert_id)) upsert(a, false);
      $('alerts-empty').textContent = 'No alerts yet; new ones appear here as they fire.';
      showListError('');
      renderAlerts();
      if (selectedId) renderDetail();
    } catch (e) {
      showListError(`Alerts could not be loaded: ${e.message}`);
    }
  }

  // One Server-Sent Event (event name, data) to the list.
  function onStreamEvent(name, data) {
    try {
      if (name === 'alert') upsert(JSON.parse(data), true);
      else if (name === 'action') applyAction(JSON.parse(data));
      else if (name === 'withdrawn') dropWithdrawn(JSON.parse(data));
      else return;
    } catch (e) {
      console.info('mozaiek: unreadable stream event', e.message);
      return;
    }
    renderAlerts();
    if (selectedId) renderDetail();
  }

  // Reads /api/alerts/stream with fetch (EventSource cannot send the bearer
  // token), parses the event-stream format, and reconnects after the last
  // event id it saw, as EventSource would.
  async function followStream() {
    const state = $('stream-state');
    let lastId = '';
    let retryMs = 3000;
    let loaded = false;
    const loadOnce = () => {
      // The list is loaded once the stream is subscribed, so no alert falls
      // in between; both are merged by alert id.
      if (loaded) return;
      loaded = true;
      loadAlerts();
    };
    stopStream();
    const abort = new AbortController();
    streamAbort = abort;
    while (!abort.signal.aborted) {
      try {
        const headers = { Accept: 'text/event-stream' };
        if (lastId) headers['Last-Event-ID'] = lastId;
        const res = await api('/api/alerts/stream', { headers, signal: abort.signal });
        if (res.status === 401) return;
        if (res.status === 403) {
          state.textContent = 'not allowed';
          state.className = 'bad';
          showListError(refusedText(res, 'The live stream'));
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        state.textContent = 'live';
        state.className = 'ok';
        loadOnce();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        let name = '';
        let data = [];
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let nl;
          while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
            if (line === '') {
              if (data.length) onStreamEvent(name || 'message', data.join('\n'));
              name = '';
              data = [];
              continue;
            }
            if (line.startsWith(':')) continue;  // a comment (keep-alive)
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            let val = colon < 0 ? '' : line.slice(colon + 1);
            if (val.startsWith(' ')) val = val.slice(1);
            if (field === 'event') name = val;
            else if (field === 'data') data.push(val);
            else if (field === 'id' && !val.includes('\0')) lastId = val;
            else if (field === 'retry' && /^\d+$/.test(val)) retryMs = Number(val);
          }
        }
      } catch (e) {
        if (abort.signal.aborted) return;
      }
      state.textContent = 'reconnecting';
      state.className = 'bad';
      loadOnce();
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }

  // A withdrawn alert (its entity was erased) leaves the list, and its
  // detail closes when it was open.
  function dropWithdrawn(event) {
    const id = String(event.alert_id);
    alerts.delete(id);
    fresh.delete(id);
    order = order.filter((x) => x !== id);
    if (selectedId === id) {
      selectedId = null;
      $('detail').hidden = true;
    }
  }

  // ---- alert detail ------------------------------------------------------

  // The rows of a contributions table (alert detail and entity view).
  function fillContributions(table, contributions) {
    const body = table.tBodies[0];
    clear(body);
    for (const c of contributions) {
      const tr = document.createElement('tr');
      cell(tr, c.signal_id, 'mono signal-id');
      cell(tr, c.source);
      cell(tr, c.indicator);
      cell(tr, formatTime(c.observed_at)).title = String(c.observed_at || '');
      cell(tr, formatNumber(c.weight, 3), 'num');
      cell(tr, formatNumber(c.decayed_weight, 3), 'num');
      body.appendChild(tr);
    }
    noneRow(body, 'none in the window');
  }

  function openAlert(id) {
    selectedId = id;
    fresh.delete(id);
    $('action-message').textContent = '';
    renderAlerts();
    renderDetail();
    $('detail').hidden = false;
  }

  function renderDetail() {
    const a = alerts.get(selectedId);
    if (!a) return;
    const subject = a.subject || {};
    $('detail-heading').textContent = `Alert ${a.rule}`;
    const dl = $('detail-fields');
    clear(dl);
    addField(dl, 'Alert id', a.alert_id).classList.add('mono');
    const subj = addField(dl, 'Subject', '');
    subj.appendChild(el('span', subjectLabel(subject.type, subject.key, true), 'mono wrap'));
    if (isEntityType(subject.type) && mayView('entities')) {
      subj.appendChild(button('View entity', () => openEntity(subject.type, subject.key)));
    }
    addField(dl, 'Score', formatNumber(a.score, 3));
    addField(dl, 'Sources', Array.isArray(a.sources) ? a.sources.join(', ') : '');
    addField(dl, 'First seen', formatTime(a.first_seen), a.first_seen);
    addField(dl, 'Last seen', formatTime(a.last_seen), a.last_seen);
    addField(dl, 'Raised', formatTime(a.raised_at), a.raised_at);
    addField(dl, 'Detection delay', formatDuration(a.detection_delay_seconds),
             `${a.detection_delay_seconds} s`);
    addField(dl, 'Level / status', levelStatus(a)).id = 'detail-status';

    fillContributions($('detail-contributions'), a.contributions || []);

    const linked = a.linked || [];
    $('detail-linked-block').hidden = linked.length === 0;
    const lbody = $('detail-linked').tBodies[0];
    clear(lbody);
    for (const l of linked) {
      const tr = document.createElement('tr');
      cell(tr, '').appendChild(subjectNode(l.type, l.key));
      cell(tr, l.rule);
      cell(tr, Array.isArray(l.via) ? l.via.join(', ') : '', 'mono');
      const last = cell(tr, '');
      if (isEntityType(l.type) && mayView('entities')) {
        last.appendChild(button('View entity', () => openEntity(l.type, l.key)));
      }
      lbody.appendChild(tr);
    }

    const events = a.events || [];
    $('detail-events-block').hidden = events.length === 0;
    const ebody = $('detail-events').tBodies[0];
    clear(ebody);
    for (const e of events) {
      const tr = document.createElement('tr');
      cell(tr, e.event_id, 'mono');
      cell(tr, e.type);
      cell(tr, formatTime(e.at)).title = String(e.at || '');
      cell(tr, e.org);
      ebody.appendChild(tr);
    }

    const history = $('action-history');
    clear(history);
    for (const x of a.actions || []) {
      const li = el('li', `${formatTime(x.at)} ${x.action} by ${x.user}`);
      if (x.reason) li.appendChild(el('span', ` — ${x.reason}`, 'muted'));
      history.appendChild(li);
    }
  }

  async function sendAction(action) {
    const a = alerts.get(selectedId);
    const msg = $('action-message');
    if (!a) return;
    const reason = $('action-reason').value.trim();
    if (action !== 'ack' && !reason) {
      msg.textContent = `A reason is required to ${action}.`;
      $('action-reason').focus();
      return;
    }
    msg.textContent = 'Sending…';
    try {
      const res = await api(`/api/alerts/${encodeURIComponent(a.alert_id)}/actions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(reason ? { action, reason } : { action }),
      });
      if (!res.ok) {
        msg.textContent = refusedText(res, 'Not recorded') || `Refused: ${await errorText(res)}`;
        return;
      }
      applyAction(await res.json());
      msg.textContent = `Recorded: ${action}.`;
      $('action-reason').value = '';
      renderAlerts();
      renderDetail();
    } catch (e) {
      msg.textContent = `Not sent: ${e.message}`;
    }
  }

  // ---- entity view -------------------------------------------------------

  function openEntity(type, key) {
    $('entity').hidden = false;
    $('entity-type').value = type;
    $('entity-key').value = key;
    $('entity-reason').value = '';
    $('entity-result').hidden = true;
    showEntityMessage('');
    (key ? $('entity-reason') : $('entity-key')).focus();
  }

  function showEntityMessage(text) {
    const p = $('entity-message');
    p.textContent = text;
    p.hidden = !text;
  }

  async function lookUpEntity(ev) {
    ev.preventDefault();
    const type = $('entity-type').value;
    const key = $('entity-key').value.trim();
    const reason = $('entity-reason').value.trim();
    $('entity-result').hidden = true;
    if (!key) {
      showEntityMessage('Enter the key of the entity (a person by pseudonym).');
      $('entity-key').focus();
      return;
    }
    if (!reason) {
      showEntityMessage('A reason is required: every lookup is audited.');
      $('entity-reason').focus();
      return;
    }
    showEntityMessage('');
    const url = `/api/entities/${encodeURIComponent(type)}/${encodeURIComponent(key)}` +
                `?reason=${encodeURIComponent(reason)}`;
    try {
      const res = await api(url);
      if (!res.ok) {
        showEntityMessage(refusedText(res, 'Not shown') || `Refused: ${await errorText(res)}`);
        return;
      }
      renderEntity(await res.json());
    } catch (e) {
      showEntityMessage(`Lookup failed: ${e.message}`);
    }
  }

  function renderEntity(v) {
    const subject = v.subject || {};
    const dl = $('entity-fields');
    clear(dl);
    addField(dl, 'Entity', subjectLabel(subject.type, subject.key, true)).classList.add('mono', 'wrap');
    addField(dl, 'As of', formatTime(v.at), v.at);
    addField(dl, 'Own score', formatNumber(v.score, 3)).id = 'entity-score';
    addField(dl, 'Lift from links', formatNumber(v.lift, 3));
    addField(dl, 'Score with lift', formatNumber(v.lifted_score, 3));
    if (Array.isArray(v.organisations) && v.organisations.length) {
      addField(dl, 'Organisations seen', v.organisations.join(', '));
    }

    // A timeline: oldest observation first.
    const contributions = (v.contributions || []).slice();
    contributions.sort((x, y) => String(x.observed_at).localeCompare(String(y.observed_at)));
    fillContributions($('entity-contributions'), contributions);

    const lbody = $('entity-links').tBodies[0];
    clear(lbody);
    for (const l of v.links || []) {
      const tr = document.createElement('tr');
      cell(tr, '').appendChild(subjectNode(l.type, l.key));
      cell(tr, formatTime(l.first_seen)).title = String(l.first_seen || '');
      cell(tr, formatTime(l.last_seen)).title = String(l.last_seen || '');
      cell(tr, l.live ? 'yes' : 'no');
      cell(tr, Array.isArray(l.sources) ? l.sources.join(', ') : '');
      cell(tr, Array.isArray(l.via) ? l.via.join(', ') : '', 'mono');
      cell(tr, l.their_score === null || l.their_score === undefined ? '–' : formatNumber(l.their_score, 3), 'num');
      const last = cell(tr, '');
      if (isEntityType(l.type)) last.appendChild(button('View entity', () => openEntity(l.type, l.key)));
      lbody.appendChild(tr);
    }
    noneRow(lbody, 'no links');

    const ul = $('entity-alerts');
    clear(ul);
    for (const id of new Set(v.alerts || [])) {
      const li = el('li');
      if (alerts.has(id)) {
        const a = alerts.get(id);
        li.appendChild(button(`${a.rule} · ${formatTime(a.raised_at)}`, () => openAlert(id), 'link'));
        li.appendChild(el('span', ` ${id}`, 'mono muted'));
      } else {
        li.appendChild(el('span', id, 'mono'));
        li.appendChild(el('span', ' (no longer in the live list)', 'muted'));
      }
      ul.appendChild(li);
    }
    if (!ul.firstChild) ul.appendChild(el('li', 'none', 'muted'));
    $('entity-result').hidden = false;
  }

  // ---- rules -------------------------------------------------------------

  const RULE_COLUMNS = new Set(['name', 'subject_type', 'network', 'enabled']);

  function ruleParameter(name, value) {
    const label = name.replace(/_days$/, ' (days)').replace(/_/g, ' ');
    return `${label}: ${typeof value === 'boolean' ? (value ? 'yes' : 'no') : value}`;
  }

  async function loadRules() {
    const err = $('rules-error');
    try {
      const res = await api('/api/rules');
      if (!res.ok) {
        err.textContent = refusedText(res, 'Rules') ||
                          `Rules could not be loaded: ${await errorText(res)}`;
        err.hidden = false;
        return;
      }
      const state = await res.json();
      err.hidden = true;
      $('rules-version').textContent = state.version;
      const report = state.backtest_report;
      $('rules-backtest').hidden = !report;
      $('rules-backtest-link').textContent = report || '';
      const history = $('rules-history').tBodies[0];
      clear(history);
      for (const h of state.history) {
        const tr = document.createElement('tr');
        tr.dataset.outcome = String(h.outcome);
        cell(tr, formatTime(h.at));
        cell(tr, h.principal);
        cell(tr, h.via);
        cell(tr, h.outcome, `outcome-${h.outcome}`);
        cell(tr, h.version);
        const errors = el('ul', null, 'plain');
        for (const e of h.errors) errors.appendChild(el('li', e));
        cell(tr, '').appendChild(errors);
        history.appendChild(tr);
      }
      const body = $('rules-table').tBodies[0];
      clear(body);
      for (const r of state.rules) {
        const tr = document.createElement('tr');
        tr.dataset.rule = String(r.name);
        const th = el('th', r.name, 'rule-name');
        th.scope = 'row';
        tr.appendChild(th);
        cell(tr, r.subject_type);
        cell(tr, r.network ? 'network' : 'convergence');
        cell(tr, r.enabled === false ? 'no' : 'yes');
        const params = el('ul', null, 'plain params');
        for (const [k, v] of Object.entries(r)) {
          if (!RULE_COLUMNS.has(k)) params.appendChild(el('li', ruleParameter(k, v)));
        }
        cell(tr, '').appendChild(params);
        body.appendChild(tr);
      }
    } catch (e) {
      err.textContent = `Rules could not be loaded: ${e.message}`;
      err.hidden = false;
    }
  }

  // ---- audit read-back (privacy officer) ---------------------------------

  async function readAudit(ev) {
    ev.preventDefault();
    const msg = $('audit-message');
    const body = $('audit-table').tBodies[0];
    clear(body);
    const by = $('audit-by').value;
    const key = $('audit-key').value.trim();
    if (!key) {
      msg.textContent = by === 'principal' ? 'Enter a principal.' : 'Enter the key (a person by pseudonym).';
      msg.hidden = false;
      return;
    }
    const q = by === 'principal' ? new URLSearchParams({ principal: key })
                                 : new URLSearchParams({ type: by, key });
    try {
      const res = await api(`/api/audit?${q}`);
      if (!res.ok) {
        msg.textContent = refusedText(res, 'Audit') || `Refused: ${await errorText(res)}`;
        msg.hidden = false;
        return;
      }
      msg.hidden = true;
      const trail = await res.json();
      for (const r of trail.records || []) {
        const tr = document.createElement('tr');
        cell(tr, formatTime(r.at)).title = String(r.at || '');
        cell(tr, r.principal);
        cell(tr, r.role);
        cell(tr, r.action);
        cell(tr, r.subject ? subjectLabel(r.subject.type, r.subject.key, false) : (r.about_principal || ''), 'mono');
        cell(tr, r.status, 'num');
        cell(tr, r.reason || '');
        body.appendChild(tr);
      }
      noneRow(body, 'no records');
    } catch (e) {
      msg.textContent = `Audit could not be read: ${e.message}`;
      msg.hidden = false;
    }
  }

  // ---- start -------------------------------------------------------------

  async function begin() {
    const res = await fetch('/api/auth/config', { cache: 'no-store' });
    if (!res.ok) throw new Error(`/api/auth/config answered HTTP ${res.status}`);
    provider = (await res.json()).oidc;
    if (!provider) {  // the demo: the service names everyone its demo identity
      await enter();
      return;
    }
    $('login-issuer').textContent = provider.issuer;
    const params = new URLSearchParams(window.location.search);
    if (params.has('code') || params.has('error')) {
      try {
        await finishLogin(params);
      } catch (e) {
        showLoginScreen(`Login failed: ${e.message}`);
        return;
      }
      await enter();
      return;
    }
    showLoginScreen('');
  }

  function start() {
    $('filters').addEventListener('submit', (ev) => ev.preventDefault());
    $('filter-rule').addEventListener('change', renderAlerts);
    $('filter-type').addEventListener('change', renderAlerts);
    $('tab-alerts').addEventListener('click', () => showTab('alerts'));
    $('tab-rules').addEventListener('click', () => showTab('rules'));
    $('tab-audit').addEventListener('click', () => showTab('audit'));
    $('open-entity').addEventListener('click', () => openEntity('vehicle', ''));
    $('entity-form').addEventListener('submit', lookUpEntity);
    $('audit-form').addEventListener('submit', readAudit);
    $('action-form').addEventListener('submit', (ev) => ev.preventDefault());
    for (const b of document.querySelectorAll('#action-form button[data-action]')) {
      b.addEventListener('click', () => sendAction(b.dataset.action));
    }
    $('login-button').addEventListener('click', logIn);
    $('logout').addEventListener('click', logOut);
    checkReady();
    setInterval(checkReady, 10000);
    renderAlerts();
    begin().catch((e) => showLoginScreen(`The console cannot start: ${e.message}`));
  }

  start();
})();
