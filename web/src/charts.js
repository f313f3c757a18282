// charts.js - metric history as charts (uPlot): CPU (CPUs busy) and memory (bytes) of an
// instance or a host over the last hour or day, from
// GET /v1/{instances,hosts}/NAME/metrics/history?range=hour|day (docs/API.md "Metric
// history"). Empty slots are gaps in the lines.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { bytes } from './dom.js';

const REFRESH_MS = 10000; // the hour ring's step

export class History {
  // el: the element the charts fill; path: the history endpoint; api: an Api
  constructor(el, api, path) {
    this.el = el;
    this.api = api;
    this.path = path;
    this.range = 'hour';
    this.plots = [];
    this.timer = setInterval(() => this.load(), REFRESH_MS);
    this.load();
  }

  setRange(range) {
    this.range = range;
    this.load();
  }

  async load() {
    let doc;
    try {
      doc = await this.api.get(`${this.path}?range=${this.range}`);
    } catch (e) {
      // shown in place of the charts, in the API's words (not in the page's error box:
      // a daemon restarting would fill it every 10 s)
      if (!this.timer) return;
      for (const p of this.plots) p.destroy();
      this.plots = [];
      const msg = document.createElement('p');
      msg.className = 'field-error';
      msg.textContent = e.code ? `${e.code}: ${e.message}` : String(e.message || e);
      this.el.replaceChildren(msg);
      return;
    }
    if (!this.timer) return; // closed meanwhile
    this.draw(doc);
  }

  draw(doc) {
    for (const p of this.plots) p.destroy();
    this.el.replaceChildren();
    const width = Math.max(300, Math.floor((this.el.clientWidth || 600) / 2) - 16);
    const mk = (label, values, fmt, stroke) => {
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset.series = label;
      box.dataset.points = String(values.filter((v) => v !== null).length);
      this.el.append(box);
      const few = +box.dataset.points < 60; // a lone sample between gaps shows as a dot
      return new uPlot({
        width, height: 160,
        series: [{}, { label, stroke, fill: `${stroke}22`, width: 1.5, spanGaps: false, points: { show: few, size: 5 }, value: (u, v) => (v === null ? '-' : fmt(v)) }],
        axes: [{}, { values: (u, vals) => vals.map(fmt), size: 70 }],
        scales: { y: { range: (u, min, max) => [0, Math.max(max || 0, label === 'CPU' ? 0.1 : 1 << 20)] } },
        cursor: { drag: { x: false, y: false } },
        legend: { live: true },
      }, [doc.time, values], box);
    };
    this.el.dataset.range = doc.range;
    this.plots = [
      mk('CPU', doc.cpu, (v) => `${(+v).toFixed(2)}`, '#2f6fde'),
      mk('Memory', doc.memory, (v) => bytes(v), '#1e7b34'),
    ];
  }

  close() {
    clearInterval(this.timer);
    this.timer = null;
    for (const p of this.plots) p.destroy();
    this.plots = [];
    this.el.replaceChildren();
  }
}
