// console.mjs - drives the web console in headless chromium (puppeteer-core), for
// console.sh. Prints one line per check: "PASS what" / "FAIL what", "# note", or
// "SKIP why" (chromium cannot start) and exits 3, "SKIPLINE why" (one part cannot run here).
// Env: GR_SRC, GR_UI_URL (https://127.0.0.1:PORT), GR_ADMIN, GR_VIEWER, GR_SHOTS (folder),
//      GR_CHROMIUM (the browser), GR_PROFILE (a fresh folder for its profile),
//      GR_NAME (the container to launch), NODE_EXTRA_CA_CERTS (the daemon's certificate).
import { createRequire } from 'node:module';

const env = process.env;
const require = createRequire(`${env.GR_SRC}/web/package.json`);
const puppeteer = require('puppeteer-core');
const base = env.GR_UI_URL;
const name = env.GR_NAME;
const T = 90000; // a bound for each wait, not a figure under test

let failed = 0;
const check = (cond, what) => { console.log(`${cond ? 'PASS' : 'FAIL'} ${what}`); if (!cond) failed++; };
const note = (s) => console.log(`# ${String(s).replace(/\n/g, ' ')}`);

async function api(method, path, token, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, doc: await res.json().catch(() => null) };
}

async function waitOk(page, fn, arg, what) {
  try {
    await page.waitForFunction(fn, { timeout: T, polling: 100 }, arg);
    check(true, what);
    return true;
  } catch (e) {
    check(false, `${what} (${e.message.split('\n')[0]})`);
    return false;
  }
}

// a button of a table the page re-renders on every event: found and clicked in one step in
// the page (a handle from page.click() can be replaced between finding and clicking)
async function press(page, sel) {
  await page.waitForSelector(sel, { timeout: T });
  await page.$eval(sel, (b) => b.click());
}

async function shot(page, file) {
  await page.screenshot({ path: `${env.GR_SHOTS}/${file}`, fullPage: true });
  note(`screenshot ${env.GR_SHOTS}/${file}`);
}

function watch(page, label) {
  page.on('pageerror', (e) => { check(false, `${label}: no script error in the page (${e.message})`); });
  page.on('console', (m) => { if (m.type() === 'error') note(`${label} console: ${m.text()}`); });
}

async function login(page, token) {
  await page.goto(`${base}/ui/`, { waitUntil: 'load' });
  await page.waitForSelector('#token', { visible: true, timeout: T });
  await page.$eval('#token', (e) => { e.value = ''; });
  await page.type('#token', token);
  await page.click('#login-button');
}

async function apiText(path) {
  const res = await fetch(base + path, { headers: { Authorization: `Bearer ${env.GR_ADMIN}` } });
  return { status: res.status, text: await res.text() };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A VM launched on the debian-vm image (built offline from this host's packages, about a
// second: docs/VM.md), its serial console opened from its row's button: a command typed
// into xterm.js reaches the guest's shell and its answer comes back. Lines that cannot run
// here (no QEMU, no image) are skipped, saying why.
async function vmConsole(page) {
  const vm = `${name}-vm`;
  const info = await api('GET', '/v1', env.GR_ADMIN);
  const be = info.doc && info.doc.environment && info.doc.environment.backends.vm;
  if (!be || !be.available) { console.log(`SKIPLINE a VM's serial console: no VM back-end (${be && be.reason})`); return; }
  const b = await api('POST', '/v1/images', env.GR_ADMIN, { recipe: 'debian-vm' });
  let op = b.doc;
  for (let i = 0; b.status === 202 && op && op.status === 'running' && i < 60; i++)
    op = (await api('GET', `/v1/operations/${op.id}?wait=10000`, env.GR_ADMIN)).doc;
  if (b.status !== 202 || !op || op.status !== 'success') {
    console.log(`SKIPLINE a VM's serial console: the debian-vm image cannot be built here (HTTP ${b.status}: ${JSON.stringify(op && (op.error || op.status))})`);
    return;
  }
  const r = await api('POST', '/v1/instances', env.GR_ADMIN, { name: vm, image: 'debian-vm', type: 'vm', memory: '256M', start: true });
  check(r.status === 201, `launch the VM ${vm} (HTTP ${r.status} ${r.status === 201 ? '' : JSON.stringify(r.doc)})`);
  if (r.status !== 201) return;
  let ready = false; // the guest says so on its serial port (the VM's log); TCG boots slowly
  for (let i = 0; i < 600 && !ready; i++) {
    ready = /gureum-guest: ready/.test((await apiText(`/v1/instances/${vm}/logs`)).text);
    if (!ready) await sleep(500);
  }
  check(ready, 'the guest is ready (its log says so)');
  await waitOk(page, (n) => {
    const b = document.querySelector(`#instances tr[data-name="${n}"] button[data-action="console"]`);
    return b && !b.disabled;
  }, vm, 'the VM row has an enabled console button');
  const shellOnly = await page.$eval(`#instances tr[data-name="${vm}"] button[data-action="shell"]`, (b) => b.disabled);
  check(shellOnly, 'a VM has no container shell button enabled');
  await press(page, `#instances tr[data-name="${vm}"] button[data-action="console"]`);
  if (await waitOk(page, () => document.querySelector('#shell-status').textContent === 'connected' &&
    document.querySelector('#shell-kind').textContent === 'Serial console', null, 'the serial console connects over the console websocket')) {
    await page.waitForSelector('#terminal .xterm-helper-textarea', { timeout: T });
    await page.focus('#terminal .xterm-helper-textarea');
    let seen = false;
    for (let i = 0; i < 10 && !seen; i++) { // the first keys may reach the shell before its prompt
      await page.keyboard.type('echo console-$((6*7))\r');
      try {
        await page.waitForFunction(() => [...document.querySelectorAll('#terminal .xterm-rows > div')]
          .some((d) => d.textContent.includes('console-42')), { timeout: 15000, polling: 200 });
        seen = true;
      } catch { /* type it again */ }
    }
    check(seen, 'input typed into xterm.js reaches the guest, its answer (console-42) comes back');
  }
  await shot(page, 'vm-console.png');
  await page.click('#shell-close');
  const d = await api('DELETE', `/v1/instances/${vm}?force=1`, env.GR_ADMIN);
  check(d.status === 200, `delete the VM ${vm}`);
}

let browser;
try {
  browser = await puppeteer.launch({
    executablePath: env.GR_CHROMIUM,
    headless: true,
    userDataDir: env.GR_PROFILE,
    acceptInsecureCerts: true,
    args: ['--no-sandbox', '--ignore-certificate-errors', '--disable-gpu', '--disable-dev-shm-usage',
      '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-domain-reliability', '--metrics-recording-only',
      // nothing but the daemon on loopback: no other name resolves
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    timeout: 60000,
  });
} catch (e) {
  console.log(`SKIP chromium (${env.GR_CHROMIUM}) cannot start: ${e.message.split('\n')[0]}`);
  process.exit(3);
}

try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  watch(page, 'admin page');

  // a wrong token: the API's own words under the form
  await login(page, 'wrong-token-0123456789abcdef');
  if (await waitOk(page, () => !document.querySelector('#error').hidden, null, 'a wrong token shows an error')) {
    const text = await page.$eval('#error', (e) => e.textContent);
    check(/EACCES: a valid bearer token is required/.test(text), `the error is the API's: "${text}"`);
    check(await page.$eval('#dashboard', (e) => e.hidden), 'no dashboard with a wrong token');
  }
  await shot(page, 'login-error.png');

  // the admin token: dashboard with the host
  await login(page, env.GR_ADMIN);
  await waitOk(page, () => !document.querySelector('#dashboard').hidden &&
    document.querySelectorAll('#hosts tbody tr').length > 0, null, 'admin logs in: dashboard with hosts');
  await waitOk(page, () => document.querySelector('#live').textContent === 'live', null, 'the events stream is followed');
  check(await page.evaluate(() => sessionStorage.getItem('gureum.token') !== null), 'the token is kept in sessionStorage');
  await page.evaluate(() => { window.grNoReload = 'same page'; });

  // a container launched through the API appears without a reload
  const r = await api('POST', '/v1/instances', env.GR_ADMIN, { name, image: 'busybox', start: true, memory: '64M' });
  check(r.status === 201, `launch ${name} through the API (HTTP ${r.status} ${r.status === 201 ? '' : JSON.stringify(r.doc)})`);
  await waitOk(page, (n) => document.querySelector(`#instances tr[data-name="${n}"][data-state="running"]`), name,
    `${name} appears as running without a reload`);
  check(await page.evaluate(() => window.grNoReload === 'same page'), 'the page was not reloaded');
  const row = await page.$eval(`#instances tr[data-name="${name}"]`, (tr) => [...tr.cells].map((c) => c.textContent));
  note(`row: ${row.join(' | ')}`);
  check(row[3] === 'elastic' && row[4] === 'container', 'the row shows class and backend');
  await shot(page, 'dashboard.png');

  // its shell: echo hello comes back in the terminal
  await press(page, `#instances tr[data-name="${name}"] button[data-action="shell"]`);
  if (await waitOk(page, () => document.querySelector('#shell-status').textContent === 'connected', null,
    'the shell connects over the exec websocket')) {
    await page.waitForSelector('#terminal .xterm-helper-textarea', { timeout: T });
    await page.focus('#terminal .xterm-helper-textarea');
    await page.keyboard.type('echo hello\r');
    await waitOk(page, () => [...document.querySelectorAll('#terminal .xterm-rows > div')]
      .some((d) => d.textContent.trim() === 'hello'), null, 'echo hello is read back from the terminal');
  }
  await shot(page, 'shell.png');
  await page.click('#shell-close');

  // its page: configuration (live memory change, the API's errors at their fields),
  // snapshots (take and restore through the page, the container stopped for the work), log
  page.on('dialog', (d) => d.accept()); // the page's confirm() of a restore
  const exec = async (cmd) => (await api('POST', `/v1/instances/${name}/exec`, env.GR_ADMIN, { cmd: ['sh', '-c', cmd] })).doc;
  await press(page, `#instances tr[data-name="${name}"] button[data-open]`);
  await waitOk(page, (n) => !document.querySelector('#detail').hidden && document.querySelector('#detail-name').textContent === n &&
    document.querySelector('#cfg-memory').value === '64M', name, 'the instance page opens with its memory (64M)');
  const setField = async (sel, v) => { await page.$eval(sel, (e) => { e.value = ''; }); await page.type(sel, v); };
  await setField('#cfg-memory', '96M');
  await page.click('#cfg-apply');
  await waitOk(page, () => document.querySelector('#cfg-status').textContent === 'applied (live)', null,
    'memory changed to 96M from the page: applied live');
  const m = await api('GET', `/v1/instances/${name}`, env.GR_ADMIN);
  check(m.doc && m.doc.memory === 96 * 1024 * 1024, `the API says memory 96M (${m.doc && m.doc.memory})`);
  const lim = await exec('cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes');
  check(lim && lim.stdout.trim() === String(96 * 1024 * 1024), `the container's cgroup limit is 96M (${lim && lim.stdout.trim()})`);
  await waitOk(page, () => /96 MiB/.test(document.querySelector('#cfg-memory-now').textContent), null, 'the page shows the new memory');
  await setField('#cfg-cpu', 'lots');
  await page.click('#cfg-apply');
  if (await waitOk(page, () => document.querySelector('#cfg-cpu-error').textContent !== '', null, 'a bad CPU value: an error next to the CPU field')) {
    const text = await page.$eval('#cfg-cpu-error', (e) => e.textContent);
    check(/^EINVAL: cpu: expected a number/.test(text), `it is the API's error: "${text}"`);
  }
  await setField('#cfg-cpu', '0');
  await setField('#cfg-memory', '1K');
  await page.click('#cfg-apply');
  if (await waitOk(page, () => document.querySelector('#cfg-memory-error').textContent !== '', null, 'a too small memory: an error next to the memory field')) {
    const text = await page.$eval('#cfg-memory-error', (e) => e.textContent);
    check(/^EINVAL: memory: at least 4M/.test(text), `it is the API's error: "${text}"`);
    check(await page.$eval('#cfg-cpu-error', (e) => e.textContent) === '', 'the CPU field has no error now');
  }
  const m2 = await api('GET', `/v1/instances/${name}`, env.GR_ADMIN);
  check(m2.doc && m2.doc.memory === 96 * 1024 * 1024 && !m2.doc.cpu, 'refused changes changed nothing');
  await setField('#cfg-memory', '96M');
  await shot(page, 'config.png');

  const w1 = await exec('echo before-snapshot > /marker && cat /marker');
  check(w1 && w1.exit_code === 0, 'a file written in the container before the snapshot');
  check(await page.$eval('#snap-stop', (e) => e.checked), 'a running container: "stop it for the work" is preset');
  await setField('#snap-name', 'snap1');
  await page.click('#snap-create');
  await waitOk(page, () => document.querySelector('#snap-status').textContent === 'snapshot snap1: done' &&
    document.querySelector('#snapshots tr[data-snap="snap1"]'), null, 'a snapshot taken from the page appears in its list');
  const sl = await api('GET', `/v1/instances/${name}/snapshots`, env.GR_ADMIN);
  check(sl.doc && sl.doc.snapshots.length === 1 && sl.doc.snapshots[0].name === 'snap1', 'the API lists snap1');
  await waitOk(page, (n) => document.querySelector(`#instances tr[data-name="${n}"][data-state="running"]`), name,
    'the container runs again after the snapshot');
  const w2 = await exec('echo after-snapshot > /marker && cat /marker');
  check(w2 && w2.stdout.trim() === 'after-snapshot', 'the file changed after the snapshot');
  await page.click('#snapshots button[data-snap="snap1"][data-snap-action="restore"]');
  await waitOk(page, () => document.querySelector('#snap-status').textContent === 'restore snap1: done', null,
    'restore snap1 from the page');
  await waitOk(page, (n) => document.querySelector(`#instances tr[data-name="${n}"][data-state="running"]`), name,
    'the container runs again after the restore');
  const w3 = await exec('cat /marker');
  check(w3 && w3.stdout.trim() === 'before-snapshot', `the restore brought the file back (${w3 && w3.stdout.trim()})`);
  await shot(page, 'snapshots.png');
  await page.click('#snapshots button[data-snap="snap1"][data-snap-action="delete"]');
  await waitOk(page, () => !document.querySelector('#snapshots tr[data-snap="snap1"]'), null, 'delete snap1 from the page');
  const sl2 = await api('GET', `/v1/instances/${name}/snapshots`, env.GR_ADMIN);
  check(sl2.doc && sl2.doc.snapshots.length === 0, 'the API lists no snapshot');
  await setField('#snap-name', 'Bad Name');
  await page.click('#snap-create');
  if (await waitOk(page, () => document.querySelector('#snap-error').textContent !== '', null, 'a bad snapshot name: an error')) {
    const text = await page.$eval('#snap-error', (e) => e.textContent);
    check(/^EINVAL: name: /.test(text), `it is the API's error: "${text}"`);
  }

  // the log of a container that prints
  const logName = `${name}-log`;
  const rl = await api('POST', '/v1/instances', env.GR_ADMIN, { name: logName, image: 'busybox', start: true, memory: '64M',
    cmd: ['sh', '-c', 'echo log-line-one; echo log-line-two; exec sleep 100000'] });
  check(rl.status === 201, `launch ${logName} (HTTP ${rl.status})`);
  await waitOk(page, (n) => document.querySelector(`#instances tr[data-name="${n}"] button[data-open]`), logName, `${logName} is listed`);
  await press(page, `#instances tr[data-name="${logName}"] button[data-open]`);
  for (let i = 0; i < 50; i++) { // its output reaches the log file some time after the start
    await page.click('#logs-refresh');
    if (await page.$eval('#logs', (e) => /log-line-two/.test(e.textContent))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const logText = await page.$eval('#logs', (e) => e.textContent);
  check(/log-line-one\nlog-line-two/.test(logText), `the page shows the log (${JSON.stringify(logText.slice(0, 80))})`);
  await shot(page, 'log.png');
  await page.click('#detail-close');
  const dl = await api('DELETE', `/v1/instances/${logName}?force=1`, env.GR_ADMIN);
  check(dl.status === 200, `delete ${logName}`);

  // metric history: the daemon samples every 5 s into rings under its state folder
  let hist = null;
  for (let i = 0; i < 600; i++) {
    hist = (await api('GET', `/v1/instances/${name}/metrics/history?range=hour`, env.GR_ADMIN)).doc;
    if (hist && hist.cpu && hist.cpu.some((v) => v !== null) && hist.memory.some((v) => v !== null)) break;
    await sleep(200);
  }
  check(hist && hist.range === 'hour' && hist.step === 10 && hist.time.length === 360 && hist.instance === name,
    `GET .../metrics/history?range=hour: 360 slots of 10 s (${hist && hist.step} x ${hist && hist.time && hist.time.length})`);
  const mems = (hist && hist.memory || []).filter((v) => v !== null);
  const cpus = (hist && hist.cpu || []).filter((v) => v !== null);
  check(mems.length > 0 && mems.every((v) => v > 0 && v <= 96 * 1024 * 1024), `memory samples within the 96M limit (${mems.slice(-3)})`);
  check(cpus.length > 0 && cpus.every((v) => v >= 0), `CPU samples (${cpus.slice(-3)})`);
  const hd = (await api('GET', `/v1/instances/${name}/metrics/history?range=day`, env.GR_ADMIN)).doc;
  check(hd && hd.step === 300 && hd.time.length === 288 && hd.memory.some((v) => v !== null), 'range=day: 288 slots of 300 s, with the samples');
  const hb = await api('GET', `/v1/instances/${name}/metrics/history?range=week`, env.GR_ADMIN);
  check(hb.status === 400 && /^range: 'week' is not one of hour, day/.test(hb.doc.error.message), `a bad range: 400 naming it (${hb.doc && hb.doc.error.message})`);
  const hn = await api('GET', '/v1/instances/web-nope/metrics/history', env.GR_ADMIN);
  check(hn.status === 404, `history of no instance: 404 (${hn.status})`);
  const server = (await api('GET', '/v1', env.GR_ADMIN)).doc.environment.server_name;
  const hh = (await api('GET', `/v1/hosts/${server}/metrics/history`, env.GR_ADMIN)).doc;
  check(hh && hh.host === server && hh.memory.some((v) => v > 0), `the host ${server} has its history too`);
  const ho = await api('GET', '/v1/hosts/no-such-host/metrics/history', env.GR_ADMIN);
  check(ho.status === 404, `history of no host: 404 (${ho.status})`);
  await press(page, `#instances tr[data-name="${name}"] button[data-open]`);
  await waitOk(page, () => {
    const c = [...document.querySelectorAll('#detail-charts .chart')];
    return c.length === 2 && c.every((d) => +d.dataset.points > 0 && d.querySelector('canvas'));
  }, null, 'the instance page draws CPU and memory charts with points (uPlot canvases)');
  await waitOk(page, () => {
    const c = [...document.querySelectorAll('#host-charts .chart')];
    return c.length === 2 && c.some((d) => +d.dataset.points > 0) && c.every((d) => d.querySelector('canvas'));
  }, null, "the dashboard draws this host's charts");
  // a drawn chart has pixels other than the background
  const drawn = await page.$eval('#detail-charts .chart[data-series="Memory"] canvas', (cv) => {
    const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  check(drawn > 100, `the memory chart drew (${drawn} pixels)`);
  await page.select('#detail-range', 'day');
  await waitOk(page, () => document.querySelector('#detail-charts').dataset.range === 'day', null, 'the range switches to the last day');
  await shot(page, 'charts.png');
  await page.click('#detail-close');

  // a VM's serial console in xterm.js (the console websocket), on the debian-vm image
  await vmConsole(page);

  // stop through the button
  await press(page, `#instances tr[data-name="${name}"] button[data-action="stop"]`);
  await waitOk(page, (n) => document.querySelector(`#instances tr[data-name="${n}"][data-state="stopped"]`), name,
    'the stop button stops it (row shows stopped)');
  const g = await api('GET', `/v1/instances/${name}`, env.GR_ADMIN);
  check(g.doc && g.doc.state === 'stopped', `the API says stopped too (${g.doc && g.doc.state})`);

  // a viewer: every mutating button disabled, and the API refuses anyway
  const vp = await browser.newPage();
  await vp.setViewport({ width: 1280, height: 900 });
  watch(vp, 'viewer page');
  await login(vp, env.GR_VIEWER);
  await waitOk(vp, (n) => document.querySelector(`#instances tr[data-name="${n}"]`), name, 'a viewer sees the instance');
  check(await vp.$eval('#who', (e) => e.textContent) === 'role: viewer', 'the page knows the role (GET /v1/token)');
  const states = await vp.$$eval('#instances button[data-action]', (bs) => bs.map((b) => b.disabled));
  check(states.length >= 5 && states.every(Boolean), `a viewer's mutating buttons are disabled (${states.length})`);
  await shot(vp, 'viewer.png');
  await vp.$eval(`#instances tr[data-name="${name}"] button[data-action="start"]`, (b) => { b.disabled = false; b.click(); });
  if (await waitOk(vp, () => !document.querySelector('#error').hidden, null, 'a forced click by a viewer gets an error')) {
    const text = await vp.$eval('#error', (e) => e.textContent);
    check(/^EPERM: role 'viewer' may not POST/.test(text), `the API refused it, in its words: "${text}"`);
  }
  const v = await api('GET', `/v1/instances/${name}`, env.GR_ADMIN);
  check(v.doc && v.doc.state === 'stopped', 'the viewer changed nothing');
  await shot(vp, 'viewer-refused.png');
  await vp.close();

  // the daemon restarts under the open page: it reconnects and catches up, no reload
  await page.evaluate(() => { window.grNoReload = 'before the restart'; });
  console.log('RESTART'); // console.sh restarts gureumd, then makes the file GR_RESTARTED
  const { existsSync } = await import('node:fs');
  for (let i = 0; i < 1200 && !existsSync(env.GR_RESTARTED); i++) await new Promise((r) => setTimeout(r, 100));
  check(existsSync(env.GR_RESTARTED), 'gureumd was restarted under the open page');
  const name2 = `${name}-after`;
  const r2 = await api('POST', '/v1/instances', env.GR_ADMIN, { name: name2, image: 'busybox', start: true, memory: '64M' });
  check(r2.status === 201, `launch ${name2} after the restart (HTTP ${r2.status})`);
  await waitOk(page, (n) => document.querySelector(`#instances tr[data-name="${n}"][data-state="running"]`), name2,
    `${name2} appears without a reload: the page reconnected to the events stream`);
  await waitOk(page, () => document.querySelector('#live').textContent === 'live', null, 'the page shows the stream live again');
  check(await page.evaluate(() => window.grNoReload === 'before the restart'), 'still the same page');
  await shot(page, 'after-restart.png');
} catch (e) {
  check(false, `the browser session ran to its end (${e.message.split('\n')[0]})`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
