// The messages-per-second chart: one SVG, redrawn from the series each snapshot. No chart library.

const SVG = 'http://www.w3.org/2000/svg';
const PAD = { left: 40, right: 10, top: 10, bottom: 24 };

/** Draws `series` (one number per second, oldest first, the last one "now") into `container`. */
export function drawRateChart(container, series) {
  const width = Math.max(200, container.clientWidth);
  const height = Math.max(120, container.clientHeight);
  const plotWidth = width - PAD.left - PAD.right;
  const plotHeight = height - PAD.top - PAD.bottom;
  const top = niceCeiling(Math.max(1, ...series));
  const x = (index) => PAD.left + (series.length <= 1 ? plotWidth : (index / (series.length - 1)) * plotWidth);
  const y = (value) => PAD.top + plotHeight * (1 - value / top);

  const svg = node('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  for (const value of [0, top / 2, top]) {
    svg.append(node('line', { class: 'grid-line', x1: PAD.left, x2: width - PAD.right, y1: y(value), y2: y(value) }));
    svg.append(text(formatTick(value), { class: 'axis-label', x: PAD.left - 6, y: y(value) + 4, 'text-anchor': 'end' }));
  }
  const minutes = Math.floor((series.length - 1) / 60);
  for (let minute = minutes; minute >= 0; minute -= 1) {
    const index = series.length - 1 - minute * 60;
    const anchor = minute === 0 ? 'end' : index === 0 ? 'start' : 'middle';
    svg.append(text(minute === 0 ? 'now' : `−${minute} min`, { class: 'axis-label', x: x(index), y: height - 6, 'text-anchor': anchor }));
  }
  if (series.length > 0) {
    const points = series.map((value, index) => `${x(index).toFixed(1)},${y(value).toFixed(1)}`);
    svg.append(node('path', { class: 'area', d: `M${x(0)},${y(0)} L${points.join(' L')} L${x(series.length - 1)},${y(0)} Z` }));
    svg.append(node('path', { class: 'line', d: `M${points.join(' L')}` }));
    svg.append(node('circle', { class: 'now', cx: x(series.length - 1), cy: y(series.at(-1)), r: 3.5 }));
  }
  container.replaceChildren(svg);
}

/** The smallest of 1, 2, 2.5, 5 × a power of ten that is at least `value`. */
function niceCeiling(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatTick(value) {
  return value >= 1000 ? `${value / 1000}k` : String(value);
}

function node(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

function text(content, attributes) {
  const element = node('text', attributes);
  element.textContent = content;
  return element;
}
