// mozaiek analysts' console. Plain DOM, no framework, no external requests.
// Alert fields come from partners: everything is rendered with textContent
// and DOM nodes, never as HTML.
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

  // ---- tabs and health ---------------------------------------------------

  function showTab(name) {
    const alertsOn = name === 'alerts';
    $('alerts-view').hidden = !alertsOn;
    $('rules-view').hidden = alertsOn;
    $('tab-alerts').setAttribute('aria-pressed', String(alertsOn));
    $('tab-rules').setAttribute('aria-pressed', String(!alertsOn));
    if (!alertsOn) loadRules();
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
      const res = await fetch(`/api/alerts?limit=${INITIAL_LIMIT}`, { cache: 'no-store' });
      if (!res.ok) {
        showListError(`Alerts could not be loaded: ${await errorText(res)}`);
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

  function followStream() {
    const state = $('stream-state');
    const source = new EventSource('/api/alerts/stream');
    let loaded = false;
    const loadOnce = () => {
      if (loaded) return;
      loaded = true;
      loadAlerts();
    };
    // The list is loaded once the stream is subscribed, so no alert falls in
    // between; both are merged by alert id.
    source.addEventListener('open', () => {
      state.textContent = 'live';
      state.className = 'ok';
      loadOnce();
    });
    source.addEventListener('error', () => {
      // EventSource reconnects by itself (the server asks for 3 s) and
      // resumes after the last event id it saw.
      state.textContent = 'reconnecting';
      state.className = 'bad';
      loadOnce();
    });
    source.addEventListener('alert', (ev) => {
      try {
        upsert(JSON.parse(ev.data), true);
      } catch (e) {
        console.warn('mozaiek: unreadable alert event', e.message);
        return;
      }
      renderAlerts();
      if (selectedId) renderDetail();
    });
    source.addEventListener('withdrawn', (ev) => {
      try {
        dropWithdrawn(JSON.parse(ev.data));
      } catch (e) {
        console.warn('mozaiek: unreadable withdrawn event', e.message);
        return;
      }
      renderAlerts();
    });
    source.addEventListener('action', (ev) => {
      try {
        applyAction(JSON.parse(ev.data));
      } catch (e) {
        console.warn('mozaiek: unreadable action event', e.message);
        return;
      }
      renderAlerts();
      if (selectedId) renderDetail();
    });
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
    if (isEntityType(subject.type)) {
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
      if (isEntityType(l.type)) last.appendChild(button('View entity', () => openEntity(l.type, l.key)));
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
      const res = await fetch(`/api/alerts/${encodeURIComponent(a.alert_id)}/actions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(reason ? { action, reason } : { action }),
      });
      if (!res.ok) {
        msg.textContent = `Refused: ${await errorText(res)}`;
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
      const res = await fetch(url, { cache: 'no-store' });
      if (!res.ok) {
        showEntityMessage(`Refused: ${await errorText(res)}`);
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
      const res = await fetch('/api/rules', { cache: 'no-store' });
      if (!res.ok) {
        err.textContent = `Rules could not be loaded: ${await errorText(res)}`;
        err.hidden = false;
        return;
      }
      const rules = await res.json();
      err.hidden = true;
      const body = $('rules-table').tBodies[0];
      clear(body);
      for (const r of rules) {
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

  // ---- start -------------------------------------------------------------

  function start() {
    $('filters').addEventListener('submit', (ev) => ev.preventDefault());
    $('filter-rule').addEventListener('change', renderAlerts);
    $('filter-type').addEventListener('change', renderAlerts);
    $('tab-alerts').addEventListener('click', () => showTab('alerts'));
    $('tab-rules').addEventListener('click', () => showTab('rules'));
    $('open-entity').addEventListener('click', () => openEntity('vehicle', ''));
    $('entity-form').addEventListener('submit', lookUpEntity);
    $('action-form').addEventListener('submit', (ev) => ev.preventDefault());
    for (const b of document.querySelectorAll('#action-form button[data-action]')) {
      b.addEventListener('click', () => sendAction(b.dataset.action));
    }
    followStream();
    checkReady();
    setInterval(checkReady, 10000);
    renderAlerts();
  }

  start();
})();
