// The derivation view: one sample's equations for one layer, with the server's numbers plugged
// in, and a step mode that walks the forward pass then the backward pass layer by layer.

import { fmt } from "./draw.js";

const SUP = (s) => `<sup>${s}</sup>`;


function column(v) {
  return v.map((x) => [x]);
}

// a matrix (list of rows) as a bracketed table; role: data-result or data-operand name.
// The cells of the result dC/dW open their weight's chain rule: reachable by Tab, opened by
// Enter or Space as by a click.
function mat(M, role, name, transpose = false) {
  const rows = transpose ? M[0].map((_, j) => M.map((r) => r[j])) : M;
  const pick = role === "result" && name === "dW" ? ` tabindex="0" role="button"` : "";
  const body = rows
    .map((r, i) => `<tr>${r.map((v, j) => `<td class="num" data-row="${i}" data-col="${j}" data-value="${v}"${pick}>${fmt(v)}</td>`).join("")}</tr>`)
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
  if (L.dropout) {
    // dropout acts while training only: these numbers are the prediction's, every unit kept
    out.push(["dropout", `training: a${SUP(m)} = &sigma;(z${SUP(m)}) &#x2218; r${SUP(m)} / (1 &minus; p), r${SUP(m)}&#x2c7c; ~ Bernoulli(1 &minus; p), and &delta;${SUP(m)} gets the same mask`,
      `p = ${L.dropout}: each unit kept with probability ${fmt(1 - L.dropout)} and scaled by ${fmt(1 / (1 - L.dropout))}, else 0; prediction (above) keeps every unit`,
      [`a${SUP(m)}`]]);
  }
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
  const [l2, l2n] = penaltyTerms(d, `W${SUP(m)}`, mat(L.W, "operand", "W"), mat(L.W.map((r) => r.map(Math.sign)), "operand", "sign_W"));
  out.push(["dW", `&part;C/&part;W${SUP(m)} = &delta;${SUP(m)} a${SUP(`${p} T`)}${l2}`,
    `${vec(L.delta, "operand", "delta")} ${rowvec(L.a_prev, "operand", "a_prev")}${l2n} = ${mat(L.dW, "result", "dW")}`,
    [`&delta;${SUP(m)}`, `a${SUP(p)}`]]);
  out.push(["db", `&part;C/&part;b${SUP(m)} = &delta;${SUP(m)}`, `${vec(L.db, "result", "db")}`, [`&delta;${SUP(m)}`]]);
  out.push(updateLine(d, L, m));
  return out;
}

const zerosLike = (M) => M.map((r) => r.map(() => 0));

// the penalty's gradient, as a formula and with the numbers (W and sign(W) given shown):
// alpha_2 W + alpha_1 sign(W), alpha_2 = alpha (1 - l1_ratio), alpha_1 = alpha l1_ratio
function penaltyTerms(d, w, W, signW) {
  if (!d.alpha) return ["", ""];
  const r = d.l1_ratio || 0;
  if (!r) return [` + &alpha; ${w}`, ` + ${fmt(d.alpha)} ${W}`];
  const l2 = r < 1 ? [` + &alpha;(1&minus;r) ${w}`, ` + ${fmt(d.alpha * (1 - r))} ${W}`] : ["", ""];
  return [`${l2[0]} + &alpha;r sign(${w}) (L1, r = ${fmt(r)})`, `${l2[1]} + ${fmt(d.alpha * r)} ${signW}`];
}

// decoupled weight decay, before the rule's step: W <- W - eta lambda W
function decayPrefix(d, W) {
  return d.weight_decay ? `${W} &larr; (1 &minus; &eta;&lambda;) ${W}, &lambda; = ${fmt(d.weight_decay)} first (weight decay: not in the gradient, b is not decayed; &Delta;${W} below is the rule's step plus &minus;&eta;&lambda;${W}); then ` : "";
}

// the update of layer m by the session's rule, with the rule's state before and after, and the
// change it makes: [id, formula, numbers, uses]
function updateLine(d, L, m) {
  const o = d.optimizer;
  const st = L.optimizer_state;
  const W = `W${SUP(m)}`;
  const g = `&part;C/&part;W${SUP(m)}`;
  const eta = fmt(o.learning_rate);
  const dWop = mat(L.dW, "operand", "dW");
  const step = mat(L.W_step, "result", "W_step");
  const after = `${W} + &Delta;${W} = ${mat(L.W, "operand", "W")} + ${mat(L.W_step, "operand", "W_step")} = ${mat(L.W_new, "result", "W_new")}`;
  const bias = `b${SUP(m)}: ${vec(L.b, "operand", "b")} &rarr; ${vec(L.b_new, "result", "b_new")} (the same rule)`;
  let formula;
  let numbers;
  const decay = decayPrefix(d, W);
  if (o.solver === "sgd") {
    formula = `${W} &larr; ${W} + &Delta;${W}, &Delta;${W} = &minus;&eta; ${g}, &eta; = ${eta}`;
    numbers = `&Delta;${W} = &minus;${eta} ${dWop} = ${step}; &nbsp; ${after}`;
  } else if (o.solver === "adam") {
    const mOld = st.m_before ? st.m_before.W : zerosLike(L.W);
    const vOld = st.v_before ? st.v_before.W : zerosLike(L.W);
    formula = `m &larr; &beta;&#x2081;m + (1&minus;&beta;&#x2081;)g, v &larr; &beta;&#x2082;v + (1&minus;&beta;&#x2082;)g&sup2;,
      &Delta;${W} = &minus;&eta;&#x209c; m / (&radic;v + &epsilon;), &eta;&#x209c; = &eta; &radic;(1&minus;&beta;&#x2082;${SUP("t")}) / (1&minus;&beta;&#x2081;${SUP("t")})`;
    numbers = `t = ${o.t}, 1&minus;&beta;&#x2081;${SUP("t")} = ${fmt(o.correction_1)}, 1&minus;&beta;&#x2082;${SUP("t")} = ${fmt(o.correction_2)},
      &eta;&#x209c; = ${eta} &middot; &radic;${fmt(o.correction_2)} / ${fmt(o.correction_1)} = <span class="num" data-value="${o.step_size}">${fmt(o.step_size)}</span>;
      m = ${o.beta_1} ${mat(mOld, "operand", "m_before")} + ${fmt(1 - o.beta_1)} ${dWop} = ${mat(st.m.W, "result", "m")};
      v = ${o.beta_2} ${mat(vOld, "operand", "v_before")} + ${fmt(1 - o.beta_2)} g&sup2; = ${mat(st.v.W, "result", "v")};
      &Delta;${W} = ${step}; &nbsp; ${after}`;
  } else {
    const vOld = st.velocity_before ? st.velocity_before.W : zerosLike(L.W);
    const nesterov = o.solver === "nesterov";
    formula = `v &larr; &mu;v &minus; &eta; ${g}, ` + (nesterov ? `&Delta;${W} = &mu;v &minus; &eta; ${g} (Nesterov)` : `&Delta;${W} = v`) + `, &mu; = ${o.momentum}, &eta; = ${eta}`;
    numbers = `v = ${o.momentum} ${mat(vOld, "operand", "velocity_before")} &minus; ${eta} ${dWop} = ${mat(st.velocity.W, "result", "velocity")};
      &Delta;${W} = ${step}; &nbsp; ${after}`;
  }
  return ["update", decay + formula, `${numbers}; &nbsp; ${bias}`, [g, `&part;C/&part;b${SUP(m)}`, "the rule's state"]];
}

// the chain rule of one weight W^m[j, k], written out with the sample's numbers:
// dC/dW^m_jk = delta^m_j a^(m-1)_k (+ alpha W^m_jk), delta^m_j expanded over layer m + 1
export function chainRule(d, m, j, k) {
  const L = d.layers[m - 1];
  const last = m === d.layers.length;
  const n = (v, role) => `<span class="num" data-chain="${role}" data-value="${v}">${fmt(v)}</span>`;
  const sub = (s) => `<sub>${s}</sub>`;
  const w = `W${SUP(m)}${sub(`${j + 1}${k + 1}`)}`;
  let delta;
  if (last && d.canonical) {
    delta = `&delta;${SUP(m)}${sub(j + 1)} = a${SUP(m)}${sub(j + 1)} &minus; y = ${n(L.a[j], "a")} &minus; ${n(d.y, "y")} = ${n(L.delta[j], "delta")}`;
  } else if (last) {
    delta = `&delta;${SUP(m)}${sub(j + 1)} = &part;C/&part;a &middot; &sigma;&prime;(z) = ${n(L.dC_da[j], "dC_da")} &middot; ${n(L.sigma_prime[j], "sigma_prime")} = ${n(L.delta[j], "delta")}`;
  } else {
    const terms = L.W_next.map((row, i) => `W${SUP(m + 1)}${sub(`${i + 1}${j + 1}`)}&delta;${SUP(m + 1)}${sub(i + 1)}`).join(" + ");
    const nums = L.W_next.map((row, i) => `${n(row[j], "W_next")}&middot;${n(L.delta_next[i], "delta_next")}`).join(" + ");
    delta = `&delta;${SUP(m)}${sub(j + 1)} = (${terms}) &middot; &sigma;&prime;(z${SUP(m)}${sub(j + 1)})
      = (${nums}) &middot; ${n(L.sigma_prime[j], "sigma_prime")} = ${n(L.backsum[j], "backsum")} &middot; ${n(L.sigma_prime[j], "sigma_prime")} = ${n(L.delta[j], "delta")}`;
  }
  const [l2, l2n] = penaltyTerms(d, w, `&middot; ${n(L.W[j][k], "W")}`, `&middot; ${n(Math.sign(L.W[j][k]), "sign_W")}`);
  return `<h3>The chain rule of ${w}, for this sample</h3>
    <p>&part;C/&part;${w} = &delta;${SUP(m)}${sub(j + 1)} a${SUP(m - 1)}${sub(k + 1)}${l2}: the error of unit ${j + 1} of layer ${m}
      times what unit ${k + 1} of layer ${m - 1} fed it</p>
    <p>${delta}</p>
    <p>&part;C/&part;${w} = ${n(L.delta[j], "delta")} &middot; ${n(L.a_prev[k], "a_prev")}${l2n} = ${n(L.dW[j][k], "result")}</p>`;
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

// the learning-rate schedule: its formula and the rate eta_e of this epoch, which the update uses
function schedule(s) {
  if (!s) return "";
  const greek = (t) => t.replaceAll("eta_", "&eta;_").replaceAll("pi ", "&pi; ");
  return `<p class="schedule" data-testid="schedule-view">learning rate, ${s.name} schedule: ${greek(s.formula)}; &nbsp; ${greek(s.numbers)}</p>`;
}

export function render(root, d, m, step) {
  const L = d.layers[m - 1];
  const all = walkSteps(d.layers.length);
  const at = step ? all.findIndex((s) => s[0] === step[0] && s[1] === step[1]) : -1;
  const cost = d.cost_l2
    ? `cost C = its own cost + ${d.l1_ratio ? "penalty &alpha;(r &Sigma;|W| + (1&minus;r)/2 &Sigma;&#x2016;W&#x2016;&sup2;)" : "L2 term &alpha;/2 &Sigma;&#x2016;W&#x2016;&sup2;"} = ${fmt(d.cost - d.cost_l2)} + ${fmt(d.cost_l2)} = ${fmt(d.cost)}`
    : `cost C = ${fmt(d.cost)}`;
  const head = `<p class="sample">Sample: x = (${d.point.map(fmt).join(", ")}), target y = ${fmt(d.y)}, ${cost}
    &nbsp;&middot;&nbsp; a${SUP(0)} = (${d.x.map(fmt).join(", ")}) &nbsp;&middot;&nbsp; epoch ${d.epoch}, layer ${m} of ${d.layers.length}</p>${schedule(d.schedule)}`;
  const body = lines(d, L)
    .map(([id, formula, numbers, uses]) => {
      const idx = all.findIndex((s) => s[0] === m && s[1] === id);
      let cls = "line";
      if (at >= 0 && idx === at) cls += " current";
      else if (at >= 0 && idx > at) cls += " future";
      const phase = ["z", "a", "dropout"].includes(id) ? "forward" : "backward";
      const usesNote = at >= 0 && idx === at ? `<div class="uses">uses ${uses.join(", ")}</div>` : "";
      return `<div class="${cls}" data-line="${id}"><div class="phase ${phase}">${phase}</div>
        <div class="formula">${formula}</div><div class="numbers">${numbers}</div>${usesNote}</div>`;
    })
    .join("");
  root.innerHTML = head + body;
  const current = root.querySelector(".line.current");
  if (current) current.querySelectorAll("[data-operand]").forEach((e) => e.classList.add("use"));
}
