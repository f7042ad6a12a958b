// The header's and data column's controls show the settings in force (the server's).

import { $ } from "./dom.js";

let forceSettings = false;
export function setValue(id, value) {
  const el = $(id);
  if (forceSettings || document.activeElement !== el) el.value = value;
}

// the settings c of a task; options: the server's (costs per task); force: even the control
// being edited (after an error)
export function showSettings(options, c, task, force = false) {
  forceSettings = force;
  setValue("dataset", c.dataset);
  setValue("learning_rate", String(c.learning_rate));
  if ($("learning_rate").value !== String(c.learning_rate)) {
    $("learning_rate").insertAdjacentHTML("beforeend", `<option>${c.learning_rate}</option>`);
    $("learning_rate").value = String(c.learning_rate);
  }
  setValue("alpha", String(c.alpha));
  setValue("l1_ratio", String(c.l1_ratio));
  setValue("weight_decay", String(c.weight_decay));
  setValue("batch_size", c.batch_size);
  setValue("solver", c.solver);
  setValue("schedule", c.schedule);
  setValue("schedule_epochs", String(c.schedule_epochs));
  $("schedule_epochs").disabled = c.schedule === "constant";
  setValue("seed", String(c.seed));
  setValue("data_seed", String(c.data_seed));
  setValue("speed", c.speed);
  const costs = options.costs[task];
  if ($("cost").dataset.task !== task) {
    $("cost").innerHTML = costs.map((k) => `<option value="${k}">${k.replaceAll("_", " ")}</option>`).join("");
    $("cost").dataset.task = task;
  }
  setValue("cost", c.cost);
  for (const [id, v, shown] of [
    ["train_ratio", c.train_ratio * 100, `${Math.round(c.train_ratio * 100)}%`],
    ["noise", c.noise * 100, String(c.noise)],
    ["n_samples", c.n_samples, String(c.n_samples)],
  ]) {
    setValue(id, v);
    $(`${id}_out`).textContent = shown;
  }
  $("n-hidden").textContent = String(c.layers.length);
  const upload = c.dataset === "upload";
  for (const id of ["noise", "n_samples"]) {
    $(id).disabled = upload;
    $(id).title = upload ? "an uploaded file has its own points" : "";
  }
  $("l2-note").hidden = !c.alpha && !c.weight_decay;
  $("l2-note").textContent = [
    !c.alpha ? "" : c.l1_ratio
      ? `C includes the penalty \u03b1/n (r \u03a3|W| + (1\u2212r)/2 \u03a3 \u2016W\u2016\u00b2), \u03b1 = ${c.alpha}, L1 share r = ${c.l1_ratio}`
      : `C includes the L2 term \u03b1/(2n) \u03a3 \u2016W\u2016\u00b2, \u03b1 = ${c.alpha}`,
    c.weight_decay ? `each step first decays W \u2190 (1 \u2212 \u03b7\u03bb) W, \u03bb = ${c.weight_decay}` : "",
  ].filter(Boolean).join("; ");
  forceSettings = false;
}
