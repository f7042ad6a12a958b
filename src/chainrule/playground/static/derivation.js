// The derivation view: one sample's equations for one layer, with the server's numbers plugged
// in, and a step mode that walks the forward pass then the backward pass layer by layer.

import { fmt } from "./draw.js";

const SUP = (s) => `<sup>${s}</sup>`;


function column(v) {
  return v.map((x) => [x]);
}

// a matrix (list of rows) as a bracketed table; role: data-result or data-operand name
function mat(M, role, name, transpose = false) {
  const rows = transpose ? M[0].map((_, j) => M.map((r) => r[j])) : M;
  const body = rows
    .map((r) => `<tr>${r.map((v) => `<td class="num" data-value="${v}">${fmt(v)}</td>`).join("")}</tr>`)
    .join("");
  return `<span class="mat" data-${role}="${name}"><table>${body}</table></span>`;
}

const vec = (v, role, name) => mat(column(v), role, name);
const rowvec = (v, role, name) => mat([v], role, name);

function sigmaName(L) {
  return L.activation === "sigmoid" && L.beta !== 1 ? `sigmoid<sub>&beta;=${L.beta}</sub>` : L.activation;
}

// the six lines of layer m: [id, formula html, numbers html, uses]
function lines(d, L) {
  const m = L.m;
  const last = m === d.layers.length;
  const p = m - 1;
  const out = [
    ["z", `z${SUP(m)} = W${SUP(m)} a${SUP(p)} + b${SUP(m)}`,
      `${mat(L.W, "operand", "W")} ${vec(L.a_prev, "operand", "a_prev")} + ${vec(L.b, "operand", "b")} = ${vec(L.z, "result", "z")}`,
      [`W${SUP(m)}`, `a${SUP(p)}`, `b${SUP(m)}`]],
    ["a", `a${SUP(m)} = &sigma;(z${SUP(m)}), &sigma; = ${sigmaName(L)}`,
      `${sigmaName(L)}( ${vec(L.z, "operand", "z")} ) = ${vec(L.a, "result", "a")}`, [`z${SUP(m)}`]],
  ];
  if (last && d.canonical) {
    out.push(["delta", `&delta;${SUP("L")} = &part;C/&part;z${SUP("L")} = a${SUP("L")} &minus; y  (${d.cost_name} with its matching ${L.activation})`,
      `${vec(L.a, "operand", "a")} &minus; ${vec([d.y], "operand", "y")} = ${vec(L.delta, "result", "delta")}`, [`a${SUP("L")}`, "y"]]);
  } else if (last) {
    out.push(["delta", `&delta;${SUP("L")} = &part;C/&part;a${SUP("L")} &#x2218; &sigma;&prime;(z${SUP("L")})`,
      `${vec(L.dC_da, "operand", "dC_da")} &#x2218; ${vec(L.sigma_prime, "operand", "sigma_prime")} = ${vec(L.delta, "result", "delta")}`,
      [`a${SUP("L")}`, "y", `z${SUP("L")}`]]);
  } else {
    out.push(["delta", `&delta;${SUP(m)} = (W${SUP(`${m + 1} T`)} &delta;${SUP(m + 1)}) &#x2218; &sigma;&prime;(z${SUP(m)})`,
      `(${mat(L.W_next, "operand", "W_next", true)} ${vec(L.delta_next, "operand", "delta_next")}) &#x2218; ${vec(L.sigma_prime, "operand", "sigma_prime")} = ${vec(L.backsum, "operand", "backsum")} &#x2218; ${vec(L.sigma_prime, "operand", "sigma_prime")} = ${vec(L.delta, "result", "delta")}`,
      [`W${SUP(m + 1)}`, `&delta;${SUP(m + 1)}`, `z${SUP(m)}`]]);
  }
  const l2 = d.alpha ? ` + &alpha; W${SUP(m)}` : "";
  const l2n = d.alpha ? ` + ${d.alpha} ${mat(L.W, "operand", "W")}` : "";
  out.push(["dW", `&part;C/&part;W${SUP(m)} = &delta;${SUP(m)} a${SUP(`${p} T`)}${l2}`,
    `${vec(L.delta, "operand", "delta")} ${rowvec(L.a_prev, "operand", "a_prev")}${l2n} = ${mat(L.dW, "result", "dW")}`,
    [`&delta;${SUP(m)}`, `a${SUP(p)}`]]);
  out.push(["db", `&part;C/&part;b${SUP(m)} = &delta;${SUP(m)}`, `${vec(L.db, "result", "db")}`, [`&delta;${SUP(m)}`]]);
  const eta = d.learning_rate;
  const sgd = d.solver === "sgd";
  out.push(["update",
    sgd ? `W${SUP(m)} &larr; W${SUP(m)} &minus; &eta; &part;C/&part;W${SUP(m)}, b${SUP(m)} &larr; b${SUP(m)} &minus; &eta; &part;C/&part;b${SUP(m)}, &eta; = ${eta}`
      : `W${SUP(m)}, b${SUP(m)} &larr; the ${d.solver} rule from &part;C/&part;W${SUP(m)}, &part;C/&part;b${SUP(m)} (&eta; = ${eta}, with its state)`,
    sgd ? `${mat(L.W, "operand", "W")} &minus; ${eta} ${mat(L.dW, "operand", "dW")} = ${mat(L.W_new, "result", "W_new")}, &nbsp; ${vec(L.b, "operand", "b")} &minus; ${eta} ${vec(L.db, "operand", "db")} = ${vec(L.b_new, "result", "b_new")}`
      : `${mat(L.W, "operand", "W")} &rarr; ${mat(L.W_new, "result", "W_new")}, &nbsp; ${vec(L.b, "operand", "b")} &rarr; ${vec(L.b_new, "result", "b_new")}`,
    [`&part;C/&part;W${SUP(m)}`, `&part;C/&part;b${SUP(m)}`]]);
  return out;
}

// the walk: forward z, a for m = 1..L, then backward delta, dW, db, update for m = L..1
export function walkSteps(L) {
  const steps = [];
  for (let m = 1; m <= L; m++) steps.push([m, "z"], [m, "a"]);
  for (let m = L; m >= 1; m--) for (const k of ["delta", "dW", "db", "update"]) steps.push([m, k]);
  return steps;
}

// columns and W edges a step touches, for the network diagram
export function stepHighlight(m, kind, L) {
  if (kind === "delta" && m < L) return { cols: [m, m + 1], edges: [m + 1] };
  if (kind === "a" || kind === "db") return { cols: [m], edges: [] };
  return { cols: [m - 1, m], edges: [m] };
}

export function render(root, d, m, step) {
  const L = d.layers[m - 1];
  const all = walkSteps(d.layers.length);
  const at = step ? all.findIndex((s) => s[0] === step[0] && s[1] === step[1]) : -1;
  const head = `<p class="sample">Sample: x = (${d.point.map(fmt).join(", ")}), target y = ${fmt(d.y)}, cost C = ${fmt(d.cost)}
    &nbsp;&middot;&nbsp; a${SUP(0)} = (${d.x.map(fmt).join(", ")}) &nbsp;&middot;&nbsp; epoch ${d.epoch}, layer ${m} of ${d.layers.length}</p>`;
  const body = lines(d, L)
    .map(([id, formula, numbers, uses]) => {
      const idx = all.findIndex((s) => s[0] === m && s[1] === id);
      let cls = "line";
      if (at >= 0 && idx === at) cls += " current";
      else if (at >= 0 && idx > at) cls += " future";
      const phase = id === "z" || id === "a" ? "forward" : "backward";
      const usesNote = at >= 0 && idx === at ? `<div class="uses">uses ${uses.join(", ")}</div>` : "";
      return `<div class="${cls}" data-line="${id}"><div class="phase ${phase}">${phase}</div>
        <div class="formula">${formula}</div><div class="numbers">${numbers}</div>${usesNote}</div>`;
    })
    .join("");
  root.innerHTML = head + body;
  const current = root.querySelector(".line.current");
  if (current) current.querySelectorAll("[data-operand]").forEach((e) => e.classList.add("use"));
}
