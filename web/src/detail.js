// detail.js - one instance's page: its configuration (memory, CPUs: PATCH .../config, live
// where the back-end allows; the API's error is shown next to the field it names), its
// snapshots (list, take, restore, delete: .../snapshots, each a 202 operation followed to
// its end), its metric history as charts (charts.js) and its log (GET .../logs). Only documented endpoints of docs/API.md.
import { ApiError } from './api.js';
import { el, bytes } from './dom.js';
import { History } from './charts.js';

const $ = (sel) => document.querySelector(sel);
const RESTING = ['running', 'stopped', 'defined'];
const LOG_TAIL = 64 * 1024; // the page shows the newest 64 KiB of the log

// bytes as the API reads them back: "512M", "2G", or a plain count
export function sizeText(n) {
  if (!n) return '0';
  for (const [u, f] of [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]])
    if (n % f === 0) return `${n / f}${u}`;
  return String(n);
}

function errText(e) {
  return e instanceof ApiError ? `${e.code}: ${e.message}` : String(e.message || e);
}

function when(t) {
  return t ? new Date(t * 1000).toLocaleString() : '-';
}

export class Detail {
  // hooks: refreshInstance(name) -> Promise<doc|undefined>, showError(e)
  constructor(api, role, name, hooks) {
    this.api = api;
    this.role = role;
    this.name = name;
    this.hooks = hooks;
    this.inst = null;
    this.filled = false;
    this.busy = false;
    this.logTimer = null;
    $('#detail').hidden = false;
    $('#detail-name').textContent = name;
    $('#logs').textContent = '';
    $('#snapshots tbody').replaceChildren();
    for (const id of ['#cfg-status', '#snap-status']) $(id).textContent = '';
    this.clearErrors();
    $('#snap-error').textContent = '';
    $('#config-form').onsubmit = (ev) => { ev.preventDefault(); this.applyConfig(); };
    for (const f of ['memory', 'cpu']) // an error stays until its field is edited or applied
      $(`#cfg-${f}`).oninput = () => { $(`#cfg-${f}-error`).textContent = ''; };
    $('#snap-form').onsubmit = (ev) => { ev.preventDefault(); this.takeSnapshot(); };
    $('#snapshots').onclick = (ev) => {
      const b = ev.target.closest('button[data-snap]');
      if (b && !b.disabled) this.snapshotAction(b.dataset.snap, b.dataset.snapAction);
    };
    $('#logs-refresh').onclick = () => this.loadLogs();
    $('#detail-range').value = 'hour';
    this.history = new History($('#detail-charts'), api, this.path('/metrics/history'));
    $('#detail-range').onchange = () => this.history.setRange($('#detail-range').value);
    this.loadSnapshots();
    this.loadLogs();
  }

  close() {
    clearTimeout(this.logTimer);
    if (this.history) this.history.close();
    $('#detail-range').onchange = null;
    $('#detail').hidden = true;
    for (const id of ['#config-form', '#snap-form'])
      $(id).onsubmit = (ev) => ev.preventDefault();
    $('#snapshots').onclick = null;
    $('#logs-refresh').onclick = null;
    this.name = null;
  }

  path(rest = '') {
    return `/v1/instances/${encodeURIComponent(this.name)}${rest}`;
  }

  // the instance document changed (or is gone: null)
  update(inst) {
    if (!this.name) return;
    this.inst = inst;
    const st = $('#detail-state');
    st.textContent = inst ? inst.state : 'deleted';
    st.className = `state ${inst ? inst.state : 'deleted'}`;
    if (inst) {
      $('#cfg-memory-now').textContent = `now ${inst.memory ? bytes(inst.memory) : 'no limit'}`;
      $('#cfg-cpu-now').textContent = `now ${inst.cpu ? inst.cpu : 'no limit'}`;
      if (!this.filled) {
        this.filled = true;
        $('#cfg-memory').value = sizeText(inst.memory);
        $('#cfg-cpu').value = String(inst.cpu || 0);
        // a running container's snapshot needs it stopped for the work (the API's "stop")
        $('#snap-stop').checked = inst.type === 'container' && inst.state === 'running';
      }
    }
    this.enable();
  }

  enable() {
    const ok = this.role === 'admin' && this.inst && RESTING.includes(this.inst.state) && !this.busy;
    for (const b of document.querySelectorAll('#detail button[data-mutating]')) {
      b.disabled = !ok;
      b.title = this.role === 'admin' ? '' : `a ${this.role} token cannot change instances`;
    }
  }

  onEvent(ev) {
    if (ev.name !== this.name) return;
    if (ev.kind.startsWith('snapshot')) this.loadSnapshots();
    if (['state', 'exited', 'restarted'].includes(ev.kind)) {
      clearTimeout(this.logTimer);
      this.logTimer = setTimeout(() => this.loadLogs(), 300);
    }
  }

  // ---- configuration ----

  clearErrors() {
    for (const id of ['#cfg-memory-error', '#cfg-cpu-error', '#cfg-error']) $(id).textContent = '';
  }

  async applyConfig() {
    this.clearErrors();
    const status = $('#cfg-status');
    const body = {};
    const mem = $('#cfg-memory').value.trim();
    const cpu = $('#cfg-cpu').value.trim();
    if (this.inst && mem !== sizeText(this.inst.memory))
      body.memory = /^\d+$/.test(mem) ? Number(mem) : mem;
    if (this.inst && cpu !== String(this.inst.cpu || 0))
      body.cpu = /^\d+(\.\d+)?$/.test(cpu) ? Number(cpu) : cpu; // the API names a non-number
    if (!Object.keys(body).length) { status.textContent = 'nothing changed'; return; }
    status.textContent = 'applying';
    try {
      const doc = await this.api.call('PATCH', this.path('/config'), body);
      status.textContent = doc.state === 'running' ? 'applied (live)' : 'saved; applies at the next start';
      this.filled = false; // show the values the API keeps
      await this.hooks.refreshInstance(this.name);
    } catch (e) {
      status.textContent = '';
      // the API's message names the field ("memory: at least 4M ..."): show it there
      const m = e instanceof ApiError && /\b(memory|cpu):/.exec(e.message);
      $(m ? `#cfg-${m[1]}-error` : '#cfg-error').textContent = errText(e);
    }
  }

  // ---- snapshots ----

  async loadSnapshots() {
    const name = this.name;
    let list;
    try {
      ({ snapshots: list } = await this.api.get(this.path('/snapshots')));
    } catch (e) {
      if (this.name === name) $('#snap-error').textContent = errText(e);
      return;
    }
    if (this.name !== name) return;
    $('#snapshots tbody').replaceChildren(...list.map((s) => el('tr', { 'data-snap': s.name },
      el('td', {}, s.name),
      el('td', {}, when(s.created)),
      el('td', {}, s.memory ? 'yes' : 'no'),
      el('td', {}, s.instance_state || '-'),
      el('td', { class: 'actions' },
        el('button', { textContent: 'restore', 'data-snap': s.name, 'data-snap-action': 'restore', 'data-mutating': '1' }),
        el('button', { textContent: 'delete', 'data-snap': s.name, 'data-snap-action': 'delete', 'data-mutating': '1' })))));
    if (!list.length)
      $('#snapshots tbody').append(el('tr', {}, el('td', { colSpan: 5, class: 'hint' }, 'No snapshots.')));
    this.enable();
  }

  async runOp(what, fn) {
    const status = $('#snap-status');
    $('#snap-error').textContent = '';
    this.busy = true;
    this.enable();
    try {
      status.textContent = `${what}: started`;
      let op = await fn();
      op = await this.api.waitOperation(op, (o) => {
        const p = o.progress || {};
        status.textContent = `${what}: ${p.message || p.phase || 'running'}`;
      });
      status.textContent = `${what}: done`;
      return op;
    } catch (e) {
      status.textContent = `${what}: failed`;
      $('#snap-error').textContent = errText(e);
      return null;
    } finally {
      this.busy = false;
      this.enable();
      this.loadSnapshots();
      this.hooks.refreshInstance(this.name).catch(this.hooks.showError);
    }
  }

  async takeSnapshot() {
    const snap = $('#snap-name').value.trim();
    const body = { name: snap };
    if ($('#snap-stop').checked) body.stop = true;
    const op = await this.runOp(`snapshot ${snap}`, () => this.api.call('POST', this.path('/snapshots'), body));
    if (op) $('#snap-name').value = '';
  }

  async snapshotAction(snap, action) {
    const p = this.path(`/snapshots/${encodeURIComponent(snap)}`);
    if (action === 'delete') {
      $('#snap-error').textContent = '';
      try {
        await this.api.call('DELETE', p);
        $('#snap-status').textContent = `snapshot ${snap}: deleted`;
      } catch (e) {
        $('#snap-error').textContent = errText(e);
      }
      this.loadSnapshots();
      return;
    }
    if (!confirm(`Restore ${this.name} to snapshot ${snap}? Changes since it are lost.`)) return;
    const body = $('#snap-stop').checked ? { stop: true } : {};
    await this.runOp(`restore ${snap}`, () => this.api.call('POST', `${p}/restore`, body));
  }

  // ---- log ----

  async loadLogs() {
    const name = this.name;
    const pre = $('#logs');
    try {
      let text = await this.api.text(this.path('/logs'));
      if (this.name !== name) return;
      if (text.length > LOG_TAIL) text = `[... the newest ${LOG_TAIL / 1024} KiB]\n${text.slice(-LOG_TAIL)}`;
      pre.textContent = text || '(empty)';
      pre.classList.remove('bad');
      pre.scrollTop = pre.scrollHeight;
    } catch (e) {
      if (this.name !== name) return;
      pre.textContent = errText(e);
      pre.classList.add('bad');
    }
  }
}
