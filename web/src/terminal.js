// terminal.js - xterm.js over gureumd's websockets (docs/API.md "Websockets"):
// - kind 'exec', a container's shell (GET /v1/instances/NAME/exec): the first frame is the
//   request, then binary frames both ways, text frames for resizes and for the exit status;
// - kind 'console', a VM's serial console (GET /v1/instances/NAME/console): binary frames
//   both ways from the start (the serial port has no window size), a text frame
//   {"error"} when the console closes under it.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { wsProtocols } from './api.js';

export class Shell {
  // el: the element the terminal fills; onStatus(text, isError) reports the session's state.
  constructor(el, onStatus) {
    this.el = el;
    this.onStatus = onStatus;
    this.term = null;
    this.ws = null;
  }

  open(token, name, { kind = 'exec', cmd = ['sh'] } = {}) {
    this.close();
    this.term = new Terminal({ cursorBlink: true, fontSize: 14, scrollback: 2000, convertEol: false });
    this.fit = new FitAddon();
    this.term.loadAddon(this.fit);
    this.term.open(this.el);
    this.fit.fit();
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${proto}//${location.host}/v1/instances/${encodeURIComponent(name)}/${kind}`;
    const ws = new WebSocket(url, wsProtocols(token));
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    const enc = new TextEncoder();
    let ended = false;
    this.onStatus('connecting', false);
    ws.onopen = () => {
      if (kind === 'exec') ws.send(JSON.stringify({ cmd, cols: this.term.cols, rows: this.term.rows }));
      this.onStatus('connected', false);
      this.term.focus();
    };
    ws.onmessage = (m) => {
      if (typeof m.data !== 'string') {
        this.term.write(new Uint8Array(m.data));
        return;
      }
      let doc;
      try { doc = JSON.parse(m.data); } catch { return; }
      if (doc.error) {
        ended = true;
        this.onStatus(`${doc.error.code}: ${doc.error.message}`, true);
      } else if ('exit_code' in doc) {
        ended = true;
        this.term.write(`\r\n[exited with status ${doc.exit_code}]\r\n`);
        this.onStatus(`exited (${doc.exit_code})`, false);
      }
    };
    ws.onclose = (ev) => {
      if (!ended)
        this.onStatus(ev.code === 1006 ? 'the connection failed or was refused (see the error above)'
          : `closed (${ev.code})`, ev.code === 1006);
    };
    this.term.onData((d) => { if (ws.readyState === WebSocket.OPEN) ws.send(enc.encode(d)); });
    this.term.onResize(({ cols, rows }) => {
      if (kind === 'exec' && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ resize: [cols, rows] }));
    });
    this.onWinResize = () => this.fit.fit();
    window.addEventListener('resize', this.onWinResize);
  }

  close() {
    if (this.ws) this.ws.close();
    if (this.term) this.term.dispose();
    if (this.onWinResize) window.removeEventListener('resize', this.onWinResize);
    this.ws = this.term = this.onWinResize = null;
    this.el.textContent = '';
  }
}
