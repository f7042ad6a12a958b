// The page's address carries its whole state, so that a link restores it: the settings the
// server checks (data set, points, noise, seeds, features, layers, learning rate, ...) and the
// page's own options (edge view, test points, areas hidden for an exercise).
//
//   #config=<JSON of the settings>&edges=gradients&scale=log&test=1&discretize=1&hide=data,settings

import { $ } from "./dom.js";

// areas a link may hide: data (the data column), settings (the header's knobs), export,
// derivation, slopes (the beta / theta plots)
export const AREAS = ["data", "settings", "export", "derivation", "slopes"];

export function linkFor(config, view) {
  const settings = { ...config };
  if (settings.dataset === "upload") delete settings.dataset; // an upload's points are not in a link
  const p = new URLSearchParams();
  p.set("config", JSON.stringify(settings));
  if (view.edges !== "weights") p.set("edges", view.edges);
  if (view.scale !== "relative") p.set("scale", view.scale);
  if (view.test) p.set("test", "1");
  if (view.discretize) p.set("discretize", "1");
  if (view.hide.length) p.set("hide", view.hide.join(","));
  return `#${p.toString()}`;
}

// {config, view} from an address's hash, or null when it carries none
export function applyLink(hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  if (!p.has("config") && !p.has("hide")) return null;
  let config = null;
  try {
    config = p.has("config") ? JSON.parse(p.get("config")) : null;
  } catch {
    config = null; // a damaged link: the defaults
  }
  if (config && config.dataset === "upload") delete config.dataset;
  const hide = (p.get("hide") || "").split(",").filter((a) => AREAS.includes(a));
  return {
    config: config && typeof config === "object" && !Array.isArray(config) ? config : null,
    view: { edges: p.get("edges"), scale: p.get("scale"), test: p.get("test") === "1", discretize: p.get("discretize") === "1", hide },
  };
}

// the page's own options that a link carries too
export function viewOptions() {
  return {
    edges: $("edges").value,
    scale: $("edge-scale").value,
    test: $("show-test").checked,
    discretize: $("discretize").checked,
    hide: [...document.body.classList].filter((c) => c.startsWith("hide-")).map((c) => c.slice(5)),
  };
}

// set the page's options from its address; returns the settings for the server (or null)
export function restoreLink() {
  const link = applyLink(location.hash);
  if (!link) return null;
  const v = link.view;
  if (["weights", "gradients"].includes(v.edges)) $("edges").value = v.edges;
  if (["relative", "log"].includes(v.scale)) $("edge-scale").value = v.scale;
  $("show-test").checked = v.test;
  $("discretize").checked = v.discretize;
  for (const area of v.hide) document.body.classList.add(`hide-${area}`);
  return link.config;
}
