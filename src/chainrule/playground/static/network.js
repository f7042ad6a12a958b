// The network diagram: feature tiles, hidden layers with their neurons' heat maps, the output,
// and the edges (weights or gradient magnitudes). Layer controls send new settings.

import { $ } from "./dom.js";
import { css, edgeScale, heatmap, NEG, outputScale, POS, unitScale } from "./draw.js";

const NODE = 38;
const GAP = 12;
const TOP = 64;
const LEFT = 40; // room for the feature names
const LABELS = { x1: "x\u2081", x2: "x\u2082", "x1^2": "x\u2081\u00b2", "x2^2": "x\u2082\u00b2", "x1*x2": "x\u2081x\u2082", "sin(x1)": "sin x\u2081", "sin(x2)": "sin x\u2082" };

export class NetworkView {
  constructor(root, svg, options, send) {
    this.root = root;
    this.svg = svg;
    this.options = options;
    this.send = send; // (changes) => void
    this.key = "";
    this.mode = "weights";
    this.scale = "relative";
    this.highlight = null;
  }

  columns(config) {
    const hidden = config.layers.map((l) => l.units);
    return [this.options.features.length, ...hidden, 1];
  }

  x(c, n) {
    const w = this.root.clientWidth - NODE - LEFT - 8;
    return LEFT + (n > 1 ? (c * w) / (n - 1) : 0);
  }

  y(j) {
    return TOP + j * (NODE + GAP);
  }

  // which input tile row each input unit sits on
  inputRows(config) {
    return config.features.map((f) => this.options.features.indexOf(f));
  }

  build(config, state) {
    this.config = config;
    this.root.querySelectorAll(".col").forEach((e) => e.remove());
    const cols = this.columns(config);
    const n = cols.length;
    // as wide as the panel, or (on a narrow screen) as the columns need: the panel scrolls
    this.root.style.width = `${Math.max(this.root.parentElement.clientWidth, LEFT + n * 74)}px`;
    this.nodes = [];
    // inputs: every feature, chosen or not
    const inputs = this.column(0, n, "Features");
    this.nodes.push(
      this.options.features.map((f, j) => {
        const on = config.features.includes(f);
        const node = this.node(inputs, j, on ? `input ${f} (click or Enter: leave it out)` : `${f} (off: click or Enter to use)`);
        node.classList.toggle("off", !on);
        node.insertAdjacentHTML("beforeend", `<span class="label">${LABELS[f] ?? f}</span>`);
        // a feature tile is a toggle button, by mouse or by keyboard
        node.tabIndex = 0;
        node.setAttribute("role", "button");
        node.setAttribute("aria-pressed", String(on));
        node.setAttribute("aria-label", `feature ${f}`);
        node.dataset.feature = f;
        node.addEventListener("click", () => this.toggleFeature(f));
        node.addEventListener("keydown", (e) => {
          if (e.key !== "Enter" && e.key !== " ") return;
          e.preventDefault();
          this.toggleFeature(f);
        });
        // the toggled tile was rebuilt: give it the focus back, unless the focus moved on
        if (this.focusFeature === f) {
          setTimeout(() => (document.activeElement === document.body || !document.activeElement) && node.focus(), 0);
        }
        return node;
      }),
    );
    config.layers.forEach((layer, k) => {
      const col = this.column(k + 1, n, "");
      col.append(this.layerControls(k, layer));
      this.nodes.push([...Array(layer.units)].map((_, j) => this.node(col, j, `layer ${k + 1}, unit ${j + 1}`)));
    });
    const out = this.column(n - 1, n, "Output");
    this.nodes.push([this.node(out, 0, "output a^L")]);
    const height = this.y(Math.max(...cols.slice(1), this.options.features.length)) + 10;
    this.root.style.height = `${height}px`;
    this.svg.setAttribute("height", height);
    this.svg.setAttribute("width", this.root.clientWidth);
    this.key = JSON.stringify([config.layers, config.features]);
  }

  column(c, n, title) {
    const col = document.createElement("div");
    col.className = "col";
    col.dataset.layer = c;
    col.style.left = `${this.x(c, n) - 16}px`;
    col.style.width = `${NODE + 32}px`;
    if (title) col.insertAdjacentHTML("beforeend", `<div class="col-title">${title}</div>`);
    this.root.append(col);
    return col;
  }

  node(col, j, title) {
    const node = document.createElement("div");
    node.className = "node";
    node.style.top = `${this.y(j)}px`;
    node.title = title;
    const canvas = document.createElement("canvas");
    canvas.width = NODE;
    canvas.height = NODE;
    node.append(canvas);
    col.append(node);
    return node;
  }

  layerControls(k, layer) {
    const box = document.createElement("div");
    box.className = "layer-controls";
    const acts = this.options.activations.map((a) => `<option${a === layer.activation ? " selected" : ""}>${a}</option>`);
    box.innerHTML = `
      <div class="units"><button class="tiny" data-d="1" title="Add a neuron">+</button>
      <span>${layer.units}</span><button class="tiny" data-d="-1" title="Remove a neuron">&minus;</button></div>
      <select class="act" title="activation of layer ${k + 1}">${acts.join("")}</select>
      <label class="beta" ${layer.activation === "sigmoid" ? "" : "hidden"}>&beta;
        <input type="number" step="0.5" min="-1" max="25" value="${layer.beta}"></label>
      <label class="dropout" title="dropout: the rate at which training drops this layer's units">p
        <input type="number" step="0.1" min="0" max="0.9" value="${layer.dropout ?? 0}" data-testid="dropout-${k + 1}"></label>`;
    box.querySelectorAll("button").forEach((b) =>
      b.addEventListener("click", () => {
        const units = layer.units + Number(b.dataset.d);
        if (units >= 1 && units <= this.options.max_units) this.setLayer(k, { units });
      }),
    );
    box.querySelector("select").addEventListener("change", (e) => this.setLayer(k, { activation: e.target.value }));
    box.querySelector(".beta input").addEventListener("change", (e) => this.setLayer(k, { beta: Number(e.target.value) }));
    box.querySelector(".dropout input").addEventListener("change", (e) => this.setLayer(k, { dropout: Number(e.target.value) }));
    return box;
  }

  setLayer(k, change) {
    const layers = this.config.layers.map((l, i) => (i === k ? { ...l, ...change } : l));
    this.send({ layers });
  }

  addLayer(d) {
    const layers = [...this.config.layers];
    if (d > 0 && layers.length < this.options.max_layers) layers.push({ units: 2, activation: layers.at(-1)?.activation ?? "tanh", beta: 1, dropout: 0 });
    else if (d < 0 && layers.length) layers.pop();
    else return;
    this.send({ layers });
  }

  toggleFeature(f) {
    this.focusFeature = document.activeElement?.dataset?.feature === f ? f : null;
    const on = this.config.features.includes(f);
    const features = on ? this.config.features.filter((g) => g !== f) : [...this.config.features, f];
    if (features.length) this.send({ features });
  }

  // the layout depends on the panel's width: rebuild it on the next update
  relayout() {
    this.key = "";
    if (this.lastState) this.update(this.lastState, this.lastState.task);
  }

  update(state, task) {
    const config = state.config;
    if (JSON.stringify([config.layers, config.features]) !== this.key) this.build(config, state);
    const res = state.neurons.resolution;
    const rows = this.inputRows(config);
    state.features.forEach((vals, j) => heatmap(this.nodes[0][j].querySelector("canvas"), vals, res, unitScale(vals)));
    state.neurons.values.forEach((units, m) => {
      if (m === 0) return; // the chosen features, drawn above
      units.forEach((vals, j) => {
        const node = m === 0 ? this.nodes[0][rows[j]] : this.nodes[m][j];
        if (!node) return;
        const scale = m === state.neurons.values.length - 1 ? (v) => outputScale(task, v) : unitScale(vals);
        heatmap(node.querySelector("canvas"), vals, res, scale);
      });
    });
    for (const col of this.nodes.slice(1)) for (const node of col) node.classList.remove("dead", "saturated");
    for (const w of state.warnings) {
      for (const j of w.units) this.nodes[w.layer]?.[j]?.classList.add(w.kind);
    }
    this.lastState = state;
    this.drawEdges(state, rows);
  }

  drawEdges(state, rows) {
    const n = state.layer_sizes.length;
    const paths = [];
    const grad = this.mode === "gradients";
    const shown = grad ? state.dW : state.W;
    const size = edgeScale(shown, this.scale);
    const note = $("edge-scale-note");
    if (note) note.textContent = size.note(grad ? "|dC/dW|" : "|W|");
    for (let m = 0; m < n - 1; m++) {
      shown[m].forEach((row, i) =>
        row.forEach((w, j) => {
          const from = m === 0 ? rows[j] : j;
          const x1 = this.x(m, n) + NODE;
          const y1 = this.y(from) + NODE / 2;
          const x2 = this.x(m + 1, n);
          const y2 = this.y(i) + NODE / 2;
          const mid = (x1 + x2) / 2;
          const s = size(w);
          const stroke = grad ? css([123, 31, 162], 0.25 + 0.75 * s) : css(w < 0 ? NEG : POS, 0.35 + 0.65 * s);
          const hot = this.highlight && this.highlight.edges.includes(m + 1) ? " hot" : "";
          // the exact double on hover (JavaScript prints the shortest string that reads back)
          const label = grad ? `|dC/dW^${m + 1}[${i + 1},${j + 1}]| = ${w}` : `W^${m + 1}[${i + 1},${j + 1}] = ${w}`;
          paths.push(
            `<path class="edge${hot}" data-m="${m + 1}" data-i="${i}" data-j="${j}" d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}" stroke="${stroke}" stroke-width="${(0.6 + 5 * s).toFixed(3)}"><title>${label}</title></path>`,
          );
        }),
      );
    }
    this.svg.innerHTML = paths.join("");
  }

  // during the derivation's step mode: highlight columns (0 = inputs, m = layer m) and the
  // edges of W^m; null clears it
  setHighlight(highlight) {
    this.highlight = highlight;
    this.root.querySelectorAll(".col").forEach((c) => {
      const m = Number(c.dataset.layer);
      c.classList.toggle("hot", !!highlight && highlight.cols.includes(m));
    });
    if (this.lastState) this.drawEdges(this.lastState, this.inputRows(this.lastState.config));
  }
}
