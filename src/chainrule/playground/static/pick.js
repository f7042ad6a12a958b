// Picking a data point on the output: the nearest to a click, or by keyboard the nearest in an
// arrow key's direction. data: the server's points ({train, test} rows [x1, x2, y]).

// the point of the subsets nearest to (x1, x2): {subset, index}
export function nearest(data, subsets, x1, x2) {
  let best = null;
  for (const subset of subsets) {
    data[subset].forEach((p, i) => {
      const dist = (p[0] - x1) ** 2 + (p[1] - x2) ** 2;
      if (!best || dist < best.dist) best = { subset, index: i, dist };
    });
  }
  return best;
}

// an arrow key moves to the nearest point in its direction (from the picked one, or the
// centre); Enter or Space picks the centre's; null for another key
const ARROWS = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
export function towards(data, subsets, selected, key) {
  const dir = ARROWS[key];
  if (!dir && key !== "Enter" && key !== " ") return null;
  const sel = selected && data[selected.subset][selected.index];
  const from = sel && dir ? sel : [0, 0];
  let best = null;
  for (const subset of subsets) {
    data[subset].forEach((p, i) => {
      const dx = p[0] - from[0];
      const dy = p[1] - from[1];
      const along = dir ? dx * dir[0] + dy * dir[1] : 1;
      if (along <= 1e-9) return;
      const across = dir ? Math.abs(dx * dir[1] - dy * dir[0]) : 0;
      const score = Math.hypot(dx, dy) + 2 * across;
      if (!best || score < best.score) best = { subset, index: i, score };
    });
  }
  return best;
}
