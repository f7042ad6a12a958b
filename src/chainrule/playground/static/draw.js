// Drawing only: colour scales, heat maps, points, the loss chart and the seed's curves.
// Every number drawn here was computed by chainrule on the server.

// every number the page shows: four significant digits, in scientific notation outside
// [0.001, 10000); null is what the server sends for a number that overflowed
export function fmt(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "overflow";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(3);
  return Number(v.toPrecision(4)).toString();
}

export const NEG = [245, 147, 34]; // orange: negative / class 0
export const POS = [8, 119, 189]; // blue: positive / class 1
const MID = [232, 234, 235];

// t in [-1, 1] -> rgb between orange, light grey and blue
export function colour(t) {
  const s = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const end = s < 0 ? NEG : POS;
  const k = Math.abs(s);
  return [0, 1, 2].map((i) => Math.round(MID[i] + (end[i] - MID[i]) * k));
}

export function css(rgb, alpha = 1) {
  return `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${alpha})`;
}

// values of a network output mapped to [-1, 1] for colouring
export function outputScale(task, v) {
  return task === "classification" ? 2 * v - 1 : v;
}

// a square grid of values (row-major, top row first) painted onto a canvas
export function heatmap(canvas, values, resolution, toUnit, discrete = false) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(resolution, resolution);
  for (let i = 0; i < values.length; i++) {
    let t = toUnit(values[i]);
    if (discrete) t = t >= 0 ? 0.8 : -0.8;
    const [r, g, b] = colour(t);
    img.data.set([r, g, b, 255], 4 * i);
  }
  const off = new OffscreenCanvas(resolution, resolution);
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
}

// a neuron's values scaled into [-1, 1] by its largest magnitude when that exceeds 1
export function unitScale(values) {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  const s = m > 1 ? m : 1;
  return (v) => v / s;
}

// edge widths scaled to the numbers shown (every layer's matrix): size(v) in [0, 1].
// relative: |v| / the largest |v|; logarithmic: where log10 |v| lies between the smallest
// nonzero |v| (at most LOG_DECADES decades below the largest) and the largest
const LOG_DECADES = 8;
export function edgeScale(matrices, kind) {
  let top = 0;
  let low = Infinity;
  for (const M of matrices) for (const row of M) for (const v of row) {
    const a = Math.abs(v);
    if (!Number.isFinite(a)) continue;
    top = Math.max(top, a);
    if (a > 0) low = Math.min(low, a);
  }
  const log = kind === "log" && top > 0;
  const floor = log ? Math.max(low, top * 10 ** -LOG_DECADES) : 0;
  const span = log ? Math.log10(top / floor) : 0;
  const size = (v) => {
    const a = Math.abs(v);
    if (!Number.isFinite(a)) return 1;
    if (!top || !a) return 0;
    if (!log) return a / top;
    return span > 0 ? Math.max(0, Math.log10(a / floor) / span) : 1;
  };
  size.note = (name) => {
    if (!top) return `${name}: all 0`;
    return log
      ? `logarithmic: thin ${name} = ${fmt(floor)}, thick = ${fmt(top)}`
      : `relative: width \u221d ${name}, thickest = ${fmt(top)}`;
  };
  return size;
}

export const RADIUS = 6;

export function toCanvas(canvas, x1, x2) {
  return [
    ((x1 + RADIUS) / (2 * RADIUS)) * canvas.width,
    ((RADIUS - x2) / (2 * RADIUS)) * canvas.height,
  ];
}

// points [x1, x2, y]: train ones with a white ring, test ones with a dark ring
export function points(canvas, rows, task, test, selected) {
  const ctx = canvas.getContext("2d");
  rows.forEach((p, i) => {
    const [x, y] = toCanvas(canvas, p[0], p[1]);
    ctx.beginPath();
    ctx.arc(x, y, 3.6, 0, 2 * Math.PI);
    ctx.fillStyle = css(colour(outputScale(task, p[2]) * 1.2));
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = test ? "#222" : "#fff";
    ctx.stroke();
    if (selected === i) {
      ctx.beginPath();
      ctx.arc(x, y, 8, 0, 2 * Math.PI);
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = "#c2185b";
      ctx.stroke();
    }
  });
}

function axes(ctx, w, h) {
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "#d0d4d8";
  ctx.lineWidth = 1;
  ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
}

function polyline(ctx, xs, ys, colourName, width) {
  ctx.beginPath();
  xs.forEach((x, i) => (i ? ctx.lineTo(x, ys[i]) : ctx.moveTo(x, ys[i])));
  ctx.strokeStyle = colourName;
  ctx.lineWidth = width;
  ctx.stroke();
}

// history rows [epoch, train, test]: train dark, test grey
export function lossChart(canvas, history) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width;
  const h = canvas.height;
  axes(ctx, w, h);
  if (history.length < 2) return;
  const last = history[history.length - 1][0] || 1;
  let top = 0;
  for (const r of history) top = Math.max(top, r[1], r[2]);
  top = top || 1;
  const xs = history.map((r) => 2 + (r[0] / last) * (w - 4));
  for (const [k, c, lw] of [[2, "#9aa5ad", 1.5], [1, "#183d4e", 2]]) {
    polyline(ctx, xs, history.map((r) => h - 3 - (r[k] / top) * (h - 8)), c, lw);
  }
}

// the slope plots: g(h) solid on the left scale, dg/dh dashed on its own right scale (so that
// a steep theta = 25, whose derivative peaks at 25, does not squash g into a flat line)
export function curvePlot(canvas, h, g, dg) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width;
  const ht = canvas.height;
  axes(ctx, w, ht);
  const lo = Math.min(-1, ...g);
  const hi = Math.max(1, ...g);
  const dlo = Math.min(0, ...dg);
  const dhi = Math.max(0, ...dg) > dlo ? Math.max(0, ...dg) : dlo + 1;
  const X = (v) => ((v + 2) / 4) * (w - 8) + 4;
  const Y = (v) => ht - 4 - ((v - lo) / (hi - lo)) * (ht - 8);
  const DY = (v) => ht - 4 - ((v - dlo) / (dhi - dlo)) * (ht - 8);
  ctx.strokeStyle = "#e3e6e8";
  ctx.beginPath();
  ctx.moveTo(X(0), 0);
  ctx.lineTo(X(0), ht);
  ctx.moveTo(0, Y(0));
  ctx.lineTo(w, Y(0));
  ctx.stroke();
  polyline(ctx, h.map(X), g.map(Y), css(POS), 2);
  ctx.setLineDash([4, 3]);
  polyline(ctx, h.map(X), dg.map(DY), css(NEG), 1.5);
  ctx.setLineDash([]);
  ctx.font = "10px sans-serif";
  ctx.fillStyle = css(POS);
  ctx.fillText(fmt(hi), 4, 11);
  ctx.fillText(fmt(lo), 4, ht - 5);
  ctx.fillStyle = css(NEG);
  ctx.textAlign = "right";
  ctx.fillText(fmt(dhi), w - 4, 11);
  ctx.fillText(fmt(dlo), w - 4, ht - 5);
  ctx.textAlign = "left";
  canvas.dataset.scales = JSON.stringify({ g: [lo, hi], dg: [dlo, dhi] });
}
