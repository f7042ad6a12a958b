// The page: one WebSocket to the server, controls that send settings and commands, and views
// that draw what the server's chainrule session reports.

import { curvePlot, fmt, heatmap, lossChart, outputScale, points, RADIUS } from "./draw.js";
import { chainRule, render, stepHighlight, walkSteps } from "./derivation.js";
import { linkFor, restoreLink, viewOptions } from "./link.js";
import { nearest, towards } from "./pick.js";
import { setValue, showSettings as showSettingsOf } from "./settings.js";
import { say, setPlaying, showWarnings } from "./status.js";
import { NetworkView } from "./network.js";
import { $ } from "./dom.js";

const ui = {
  options: null,
  data: null,
  state: null,
  history: [],
  derivation: null,
  step: null, // the walk's current [m, kind]
  selected: null, // {subset, index}
  chain: null, // the weight whose chain rule is shown: {m, j, k}
  link: null, // settings from the page's address, sent once the server has greeted
};

const socket = new WebSocket(`ws://${location.host}/ws`);
const send = (msg) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(msg));
const configure = (changes) => send({ type: "config", config: changes });
let network = null;

// -- messages from the server ----------------------------------------------------------------

const handlers = {
  init(msg) {
    ui.options = msg.options;
    network = new NetworkView($("net"), $("edges-svg"), msg.options, configure);
    network.mode = $("edges").value;
    network.scale = $("edge-scale").value;
  },
  data(msg) {
    const up = msg.name && !["xor", "circles", "moons", "spiral", "gauss", "plane", "sine"].includes(msg.name);
    if (up) {
      $("upload-group").hidden = false;
      $("upload-option").textContent = `uploaded: ${msg.name}`;
      if (!ui.data || ui.data.name !== msg.name) {
        const classes = msg.classes.length ? ` (class 0: ${msg.classes[0]}, class 1: ${msg.classes[1]})` : "";
        say(`Loaded ${msg.name}: ${msg.train.length + msg.test.length} points, ${msg.task}${classes}`);
      }
    }
    ui.data = msg;
    drawOutput();
  },
  state(msg) {
    if (msg.history_from === 0) ui.history = [];
    ui.history.push(...msg.history);
    ui.state = msg;
    showSettings(msg.config, msg.task);
    $("epoch").textContent = String(msg.epoch);
    $("train-loss").textContent = fmt(msg.train_loss);
    $("test-loss").textContent = fmt(msg.test_loss);
    $("accuracy").hidden = !msg.accuracy;
    if (msg.accuracy) {
      $("train-accuracy").textContent = fmt(msg.accuracy[0]);
      $("test-accuracy").textContent = fmt(msg.accuracy[1]);
    }
    $("minibatch").textContent = msg.minibatch ? `minibatch ${msg.minibatch} of ${msg.minibatches}` : "";
    setPlaying(msg.playing);
    showWarnings(msg.warnings);
    network.update(msg, msg.task);
    lossChart($("loss-chart"), ui.history);
    if (!msg.selected && ui.derivation) clearDerivation();
    markCheckStale();
    drawOutput();
    markStale();
    if (ui.link) {
      configure(ui.link); // the settings of a shared link, once
      ui.link = null;
    } else {
      history.replaceState(null, "", linkFor(msg.config, viewOptions()));
    }
  },
  // the server sends the picked sample's derivation after every change that affects it
  derivation(msg) {
    ui.derivation = msg;
    ui.selected = { subset: msg.subset, index: msg.index };
    setValue("inspect-subset", msg.subset);
    setValue("inspect-index", String(msg.index));
    const sel = $("inspect-layer");
    const L = msg.layers.length;
    if (sel.options.length !== L) {
      const keep = Math.min(Number(sel.value) || L, L);
      sel.innerHTML = msg.layers.map((l) => `<option value="${l.m}">${l.m === L ? `${l.m} (output)` : l.m}</option>`).join("");
      sel.value = String(keep);
      if (ui.step && ui.step[0] > L) ui.step = null;
    }
    showDerivation();
    drawOutput();
  },
  gradcheck(msg) {
    const box = $("gradcheck-result");
    box.hidden = false;
    box.className = `gradcheck ${msg.verdict}`;
    box.dataset.relativeError = String(msg.relative_error);
    box.dataset.of = networkKey(ui.state);
    box.dataset.stale = "false";
    box.textContent = `Backpropagation against central differences (C(w + h) \u2212 C(w \u2212 h)) / 2h, h = ${msg.step}, `
      + `over all ${msg.parameters} weights and biases, for ${msg.subset} sample ${msg.index}: relative error `
      + `${fmt(msg.relative_error)} \u2014 ${msg.verdict}. Good is below 1e-6 (about 1e-7 or less in float64); `
      + "above 1e-3 the gradient is wrong; a ReLU kink near a weight can raise it for that weight alone.";
  },
  curves(msg) {
    curvePlot($("sigmoid-plot"), msg.h, msg.sigmoid, msg.sigmoid_prime);
    curvePlot($("tanh-plot"), msg.h, msg.tanh, msg.tanh_prime);
  },
  export(msg) {
    const blob = msg.format === "crm"
      ? new Blob([Uint8Array.from(atob(msg.base64), (c) => c.charCodeAt(0))], { type: "application/octet-stream" })
      : new Blob([msg.text], { type: "text/x-python" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = msg.filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    say(`Saved ${msg.filename}`);
  },
  error(msg) {
    say(msg.message, true);
    if (ui.state) showSettings(ui.state.config, ui.state.task, true); // the settings in force
  },
};

socket.addEventListener("message", (e) => {
  const msg = JSON.parse(e.data);
  handlers[msg.type]?.(msg);
});
socket.addEventListener("open", () => sendCurves());
// the server is gone: say so until the page is reloaded, and stop every control
socket.addEventListener("close", () => {
  document.body.classList.add("offline");
  document.querySelectorAll("button, select, input").forEach((e) => (e.disabled = true));
  setPlaying(false);
  say("The playground server stopped: nothing here works until it runs again (chainrule playground) and this page is reloaded.", true, true);
});

// -- drawing ---------------------------------------------------------------------------------

function drawOutput() {
  const s = ui.state;
  const d = ui.data;
  if (!s || !d) return;
  const canvas = $("boundary");
  heatmap(canvas, s.output.values, s.output.resolution, (v) => outputScale(d.task, v), $("discretize").checked);
  const sel = ui.derivation ? ui.selected : null;
  points(canvas, d.train, d.task, false, sel && sel.subset === "train" ? sel.index : null);
  if ($("show-test").checked || (sel && sel.subset === "test")) {
    points(canvas, d.test, d.task, true, sel && sel.subset === "test" ? sel.index : null);
  }
  const [lo, hi] = d.task === "classification" ? ["0", "1"] : ["-1", "1"];
  document.querySelector(".scale").firstElementChild.textContent = lo;
  document.querySelector(".scale").lastElementChild.textContent = hi;
}

// while playing, the derivation follows the training a few times a second: between two of its
// updates it shows an older epoch, and says so
const HINT = $("derivation").innerHTML;

// what a gradient check's result depends on: the network (epoch, minibatch, settings)
function networkKey(s) {
  return s ? JSON.stringify([s.epoch, s.minibatch, s.config, s.selected]) : "";
}

// a gradient check of an older network stays readable but says that it is old
function markCheckStale() {
  const box = $("gradcheck-result");
  if (box.hidden || box.dataset.stale === "true" || box.dataset.of === networkKey(ui.state)) return;
  box.dataset.stale = "true";
  box.classList.add("stale");
  box.textContent = `(Of an earlier network: press Check the gradient again.) ${box.textContent}`;
}

// the picked sample is gone (the data changed and has fewer points)
function clearDerivation() {
  ui.derivation = null;
  ui.selected = null;
  ui.step = null;
  ui.chain = null;
  $("chain").hidden = true;
  $("gradcheck-result").hidden = true;
  $("derivation").innerHTML = HINT;
  network.setHighlight(null);
}

function markStale() {
  const d = ui.derivation;
  const stale = !!(d && ui.state && d.epoch !== ui.state.epoch);
  $("inspect").classList.toggle("stale", stale);
  $("inspect").dataset.stale = String(stale);
  $("stale-note").hidden = !stale;
  if (stale) $("stale-note").textContent = `numbers of epoch ${d.epoch}; training is at ${ui.state.epoch}, they follow a few times a second`;
}

function showChain() {
  const d = ui.derivation;
  const c = ui.chain;
  const ok = d && c && c.m <= d.layers.length && c.j < d.layers[c.m - 1].dW.length && c.k < d.layers[c.m - 1].dW[0].length;
  $("chain").hidden = !ok;
  if (ok) $("chain").innerHTML = chainRule(d, c.m, c.j, c.k);
}

function showDerivation() {
  const d = ui.derivation;
  if (!d) return;
  const m = ui.step ? ui.step[0] : Number($("inspect-layer").value) || d.layers.length;
  render($("derivation"), d, m, ui.step);
  showChain();
  $("inspect").dataset.epoch = String(d.epoch);
  markStale();
  $("inspect").dataset.layer = String(m);
  if (ui.step) {
    const [sm, kind] = ui.step;
    const phase = ["z", "a"].includes(kind) ? "forward" : "backward";
    $("walk-where").textContent = `${phase} pass, layer ${sm}: ${kind === "update" ? "the update" : kind}`;
    network.setHighlight(stepHighlight(sm, kind, d.layers.length));
  } else {
    $("walk-where").textContent = "";
    network.setHighlight(null);
  }
}

const showSettings = (c, task, force = false) => showSettingsOf(ui.options, c, task, force);

function inspect() {
  const index = Number($("inspect-index").value);
  ui.selected = { subset: $("inspect-subset").value, index };
  send({ type: "inspect", subset: ui.selected.subset, index });
}

function sendCurves() {
  const beta = Number($("beta").value);
  const theta = Number($("theta").value);
  $("beta_out").textContent = String(beta);
  $("theta_out").textContent = String(theta);
  send({ type: "curves", beta, theta });
}

function walk(d) {
  if (!ui.derivation) inspect();
  const steps = walkSteps(ui.derivation ? ui.derivation.layers.length : 1);
  const at = ui.step ? steps.findIndex((s) => s[0] === ui.step[0] && s[1] === ui.step[1]) : -1;
  const next = at + d;
  ui.step = next >= 0 && next < steps.length ? steps[next] : null;
  if (ui.step) $("inspect-layer").value = String(ui.step[0]);
  $("walk-next").textContent = ui.step ? "Next \u25b6" : "Step through \u25b6";
  showDerivation();
}

function pick(p) {
  $("inspect-subset").value = p.subset;
  $("inspect-index").value = String(p.index);
  inspect();
}

const subsets = () => ($("show-test").checked ? ["train", "test"] : ["train"]);

// the header: training, settings, seeds, link and export
function wireTraining() {
  $("play").addEventListener("click", () => send({ type: ui.state && ui.state.playing ? "pause" : "play" }));
  $("step").addEventListener("click", () => send({ type: "step" }));
  $("step-minibatch").addEventListener("click", () => send({ type: "minibatch" }));
  $("speed").addEventListener("change", (e) => configure({ speed: e.target.value }));
  for (const id of ["seed", "data_seed"]) {
    $(id).addEventListener("change", (e) => {
      const v = Number(e.target.value);
      if (Number.isInteger(v) && v >= 0 && v < 2 ** 31) configure({ [id]: v });
      else say(`The ${id.replace("_", " ")} must be a whole number from 0 to 2147483647.`, true);
    });
  }
  $("permalink").addEventListener("click", async () => {
    const url = location.href;
    try {
      await navigator.clipboard.writeText(url);
      say("Copied a link to these settings: whoever opens it gets the same data, network, seed and options.");
    } catch {
      say(`A link to these settings: ${url}`);
    }
  });
  $("reset").addEventListener("click", () => send({ type: "reset" }));
  for (const id of ["learning_rate", "alpha"]) $(id).addEventListener("change", (e) => configure({ [id]: Number(e.target.value) }));
  for (const id of ["l1_ratio", "weight_decay"]) $(id).addEventListener("change", (e) => configure({ [id]: Number(e.target.value) }));
  $("batch_size").addEventListener("change", (e) => {
    const size = Number(e.target.value);
    if (Number.isInteger(size) && size >= 1 && size <= 1000) return configure({ batch_size: size });
    const kept = ui.state ? ui.state.config.batch_size : 10;
    e.target.value = String(kept);
    say(`The batch size must be a whole number from 1 to 1000; training goes on with ${kept}.`, true);
  });
  for (const id of ["solver", "cost", "schedule"]) $(id).addEventListener("change", (e) => configure({ [id]: e.target.value }));
  $("schedule_epochs").addEventListener("change", (e) => configure({ schedule_epochs: Number(e.target.value) }));
  $("export").addEventListener("click", () => send({ type: "export", format: "crm" }));
  $("export-script").addEventListener("click", () => send({ type: "export", format: "python" }));
}

// the data column: data sets, points, upload, the slope plots
function wireData() {
  $("regenerate").addEventListener("click", () => send({ type: "regenerate" }));
  $("dataset").addEventListener("change", (e) => configure({ dataset: e.target.value }));
  $("train_ratio").addEventListener("change", (e) => configure({ train_ratio: Number(e.target.value) / 100 }));
  $("noise").addEventListener("change", (e) => configure({ noise: Number(e.target.value) / 100 }));
  $("n_samples").addEventListener("change", (e) => configure({ n_samples: Number(e.target.value) }));
  $("beta").addEventListener("input", sendCurves);
  $("theta").addEventListener("input", sendCurves);
  $("upload-button").addEventListener("click", () => $("csv").click());
  $("csv").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const max = ui.options.max_csv_bytes;
    if (file.size > max) {
      say(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the playground takes CSV files up to ${max / 1e6} MB`, true);
    } else {
      send({ type: "upload", name: file.name, csv: await file.text() });
    }
    e.target.value = "";
  });
}

// the network and output views
function wireNetwork() {
  $("edges-svg").addEventListener("click", (e) => {
    const edge = e.target.closest("path.edge");
    if (!edge) return;
    ui.chain = { m: Number(edge.dataset.m), j: Number(edge.dataset.i), k: Number(edge.dataset.j) };
    ui.step = null;
    $("inspect-layer").value = edge.dataset.m;
    if (ui.derivation) showDerivation();
    else inspect();
  });
  $("add-layer").addEventListener("click", () => network.addLayer(1));
  $("remove-layer").addEventListener("click", () => network.addLayer(-1));
  $("edges").addEventListener("change", (e) => {
    network.mode = e.target.value;
    if (ui.state) network.update(ui.state, ui.state.task);
  });
  $("edge-scale").addEventListener("change", (e) => {
    network.scale = e.target.value;
    if (ui.state) network.update(ui.state, ui.state.task);
  });
  for (const id of ["show-test", "discretize"]) $(id).addEventListener("change", drawOutput);
  for (const id of ["edges", "edge-scale", "show-test", "discretize"]) {
    $(id).addEventListener("change", () => ui.state && history.replaceState(null, "", linkFor(ui.state.config, viewOptions())));
  }
  window.addEventListener("resize", () => network && network.relayout());
}

// the derivation panel: picking a sample, the walk, the chain rule, the gradient check
function wireDerivation() {
  $("gradcheck").addEventListener("click", () => {
    if (!ui.selected) inspect();
    send({ type: "gradcheck" });
  });
  const openChain = (e) => {
    const cell = e.target.closest("[data-result=dW] td");
    if (!cell || !ui.derivation) return;
    if (e.type === "keydown") {
      if (e.key !== "Enter" && e.key !== " ") return;
      e.preventDefault();
    }
    const m = Number($("inspect").dataset.layer);
    ui.chain = { m, j: Number(cell.dataset.row), k: Number(cell.dataset.col) };
    showChain();
  };
  $("derivation").addEventListener("click", openChain);
  $("derivation").addEventListener("keydown", openChain);
  $("inspect-go").addEventListener("click", () => {
    ui.step = null;
    inspect();
  });
  $("inspect-layer").addEventListener("change", () => {
    ui.step = null;
    showDerivation();
  });
  $("walk-next").addEventListener("click", () => walk(1));
  $("walk-prev").addEventListener("click", () => walk(-1));
  $("boundary").addEventListener("click", (ev) => {
    if (!ui.data) return;
    const r = $("boundary").getBoundingClientRect();
    const x1 = ((ev.clientX - r.left) / r.width) * 2 * RADIUS - RADIUS;
    const x2 = RADIUS - ((ev.clientY - r.top) / r.height) * 2 * RADIUS;
    pick(nearest(ui.data, subsets(), x1, x2));
  });
  $("boundary").addEventListener("keydown", (ev) => {
    const p = ui.data && towards(ui.data, subsets(), ui.selected, ev.key);
    if (!p) return;
    ev.preventDefault();
    pick(p);
  });
}

ui.link = restoreLink();
wireTraining();
wireData();
wireNetwork();
wireDerivation();
