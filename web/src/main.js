// main.js - the console page: log in with an API token (sessionStorage), a dashboard of
// hosts and instances kept current by the events stream (no reloads), per-instance
// actions, an instance's page (configuration, snapshots, log; detail.js), a container's
// shell and a VM's serial console (terminal.js). Plain modules and DOM calls, no framework
// (docs/WEB.md says why). Every error is shown as the API words it.
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { Api, ApiError } from './api.js';
import { Shell } from './terminal.js';
import { Detail } from './detail.js';
import { el, bytes } from './dom.js';
import { History } from './charts.js';

const $ = (sel) => document.querySelector(sel);
const KEY = 'gureum.token';
let api = null;
let role = null;
let stream = null;          // AbortController of the events stream
const instances = new Map(); // name -> document
let shell = null;
let detail = null;           // the open instance page (detail.js)
let hostHistory = null;      // this host's charts (charts.js)

function showError(e) {
  const box = $('#error');
  if (!e) { box.hidden = true; box.textContent = ''; return; }
  box.textContent = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e.message || e);
  box.hidden = false;
}

// ---- login ----

function showLogin() {
  $('#login').hidden = false;
  $('#dashboard').hidden = true;
  $('#shell').hidden = true;
  $('#detail').hidden = true;
  $('#logout').hidden = true;
  $('#who').textContent = '';
  $('#token').focus();
}

async function login(token) {
  const a = new Api(token);
  const who = await a.get('/v1/token'); // 401 with the API's message for a wrong token
  api = a;
  role = who.role;
  sessionStorage.setItem(KEY, token);
  $('#login').hidden = true;
  $('#dashboard').hidden = false;
  $('#logout').hidden = false;
  $('#who').textContent = `role: ${role}`;
  document.body.dataset.role = role;
  showError(null);
  await refreshAll();
  follow();
  // the daemon keeps its own host's history (GET /v1 names that host)
  const server = await api.get('/v1');
  const host = server.environment.server_name;
  $('#host-name').textContent = host;
  $('#host-range').value = 'hour';
  if (hostHistory) hostHistory.close();
  hostHistory = new History($('#host-charts'), api, `/v1/hosts/${encodeURIComponent(host)}/metrics/history`);
  $('#host-range').onchange = () => hostHistory.setRange($('#host-range').value);
}

function logout() {
  sessionStorage.removeItem(KEY);
  if (stream) stream.abort();
  if (shell) shell.close();
  if (detail) detail.close();
  if (hostHistory) hostHistory.close();
  hostHistory = null;
  api = role = stream = null;
  instances.clear();
  renderInstances();
  showLogin();
}

// ---- data ----

// instances on a host, from the instance list the events keep current
function hostCounts(host) {
  let all = 0, running = 0;
  for (const i of instances.values())
    if (i.host === host) { all++; if (i.state === 'running') running++; }
  return `${running} running of ${all}`;
}

async function refreshHosts() {
  const { hosts } = await api.get('/v1/hosts');
  const tb = $('#hosts tbody');
  tb.replaceChildren(...hosts.map((h) => {
    const cap = h.capacity || {}, load = h.load || {};
    return el('tr', { 'data-host': h.name },
      el('td', {}, h.name + (h.leader ? ' (leader)' : '')),
      el('td', { class: `state ${h.state}` }, h.state),
      el('td', {}, `${cap.cores ?? '-'} cores, load ${load.cpu_load ?? '-'}`),
      el('td', {}, `${bytes(load.memory_used)} of ${bytes(cap.memory)}`),
      el('td', {}, hostCounts(h.name)));
  }));
}

async function refreshAll() {
  const { instances: list } = await api.get('/v1/instances');
  instances.clear();
  for (const i of list) instances.set(i.name, i);
  renderInstances();
  await refreshHosts();
}

async function refreshInstance(name) {
  try {
    instances.set(name, await api.get(`/v1/instances/${encodeURIComponent(name)}`));
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
    instances.delete(name);
  }
  renderInstances();
  return instances.get(name);
}

// ---- events: live updates, reconnecting after the last seen event ----

let hostTimer = null;
function hostsSoon() {
  if (hostTimer) return;
  hostTimer = setTimeout(() => { hostTimer = null; refreshHosts().catch(showError); }, 500);
}

async function follow() {
  if (stream) stream.abort();
  const ctl = new AbortController();
  stream = ctl;
  let after = null;
  const live = $('#live');
  while (!ctl.signal.aborted) {
    try {
      if (after === null) { // where the stream is now; then read the state once
        const evs = await api.get('/v1/events?follow=0');
        const arr = Array.isArray(evs) ? evs : (evs.events || []);
        after = arr.length ? arr[arr.length - 1].seq : 0;
        await refreshAll();
      }
      live.textContent = 'live';
      live.className = 'live on';
      await api.events(after, (ev) => {
        if (ev.seq <= after && ev.seq !== 0) return;
        after = ev.seq;
        if (ev.kind === 'progress' || !ev.name) return;
        if (ev.kind.startsWith('image') || ev.kind === 'dnsmasq-started') return;
        refreshInstance(ev.name).catch(showError);
        if (detail) detail.onEvent(ev);
        hostsSoon();
      }, ctl.signal);
    } catch (e) {
      if (ctl.signal.aborted) return;
      if (e instanceof ApiError && e.status === 401) { showError(e); logout(); return; }
    }
    if (ctl.signal.aborted) return;
    // the stream ended (the daemon stopped or restarted): its numbering may restart, so
    // read everything again when it is back
    live.textContent = 'reconnecting';
    live.className = 'live off';
    after = null;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ---- instances table and actions ----

const MUTATING = ['start', 'stop', 'restart', 'delete', 'shell', 'console'];

function actionButton(inst, action) {
  const b = el('button', { textContent: action, 'data-action': action, 'data-name': inst.name });
  const running = inst.state === 'running';
  const resting = ['running', 'stopped', 'defined'].includes(inst.state);
  let ok = role === 'admin' && resting;
  if (action === 'start') ok = ok && !running;
  if (action === 'stop' || action === 'restart') ok = ok && running;
  if (action === 'shell') ok = ok && running && inst.type === 'container';
  if (action === 'console') ok = ok && running && inst.type === 'vm';
  b.disabled = !ok;
  if (role !== 'admin') b.title = `a ${role} token cannot change instances`;
  return b;
}

function renderInstances() {
  const tb = $('#instances tbody');
  const rows = [...instances.values()].sort((a, b) => a.name.localeCompare(b.name)).map((i) => {
    const addr = (i.nics || []).map((n) => n.ip).filter(Boolean).join(', ') || '-';
    return el('tr', { 'data-name': i.name, 'data-state': i.state },
      el('td', { class: 'name' }, i.name),
      el('td', { class: `state ${i.state}` }, i.state + (i.error ? ` (${i.error})` : '')),
      el('td', {}, i.host || '-'),
      el('td', {}, i.class || '-'),
      el('td', { title: i.backend_reason || '' }, i.type || '-'),
      el('td', {}, addr),
      el('td', {}, `${i.cpu || '-'} / ${bytes(i.memory)}`),
      el('td', { class: 'actions' },
        el('button', { textContent: 'details', 'data-open': i.name, title: 'configuration, snapshots, log' }),
        ...MUTATING.map((a) => actionButton(i, a))));
  });
  tb.replaceChildren(...rows);
  $('#no-instances').hidden = rows.length > 0;
  if (detail) detail.update(instances.get(detail.name) || null);
}

async function act(name, action) {
  showError(null);
  const path = `/v1/instances/${encodeURIComponent(name)}`;
  if (action === 'shell') return openShell(name, 'exec');
  if (action === 'console') return openShell(name, 'console');
  if (action === 'delete') {
    if (!confirm(`Delete ${name}? Its files go with it.`)) return;
    await api.call('DELETE', `${path}?force=1`);
    instances.delete(name);
    renderInstances();
    return;
  }
  instances.set(name, await api.call('POST', `${path}/state`, { action }));
  renderInstances();
}

function openShell(name, kind) {
  $('#shell').hidden = false;
  $('#shell-kind').textContent = kind === 'console' ? 'Serial console' : 'Shell';
  $('#shell-name').textContent = name;
  const status = $('#shell-status');
  if (!shell) shell = new Shell($('#terminal'), (text, isError) => {
    status.textContent = text;
    status.className = isError ? 'bad' : '';
    if (isError) showError(new Error(`shell of ${$('#shell-name').textContent}: ${text}`));
  });
  shell.open(api.token, name, { kind });
}

function openDetail(name) {
  if (detail) detail.close();
  detail = new Detail(api, role, name, { refreshInstance, showError });
  detail.update(instances.get(name) || null);
  $('#detail').scrollIntoView();
}

// ---- start ----

$('#login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  login($('#token').value.trim()).catch((e) => { showError(e); showLogin(); });
});
$('#logout').addEventListener('click', logout);
$('#shell-close').addEventListener('click', () => { if (shell) shell.close(); $('#shell').hidden = true; });
$('#detail-close').addEventListener('click', () => { if (detail) detail.close(); detail = null; });
$('#instances').addEventListener('click', (ev) => {
  const o = ev.target.closest('button[data-open]');
  if (o) { openDetail(o.dataset.open); return; }
  const b = ev.target.closest('button[data-action]');
  if (!b || b.disabled) return;
  act(b.dataset.name, b.dataset.action).catch(showError);
});

const saved = sessionStorage.getItem(KEY);
if (saved) login(saved).catch((e) => { showError(e); sessionStorage.removeItem(KEY); showLogin(); });
else showLogin();
