// ANSI colour codes (SGR) in a log line, rendered as spans with classes: the text itself is only ever set as text.

const SGR = /\x1b\[([0-9;]*)m/g;

/**
 * @param {string} line
 * @returns {DocumentFragment}
 */
export function renderAnsi(line) {
  const fragment = document.createDocumentFragment();
  if (!line.includes('\x1b[')) {
    fragment.append(line);
    return fragment;
  }
  /** @type {string[]} */
  let classes = [];
  let last = 0;
  for (const match of line.matchAll(SGR)) {
    push(fragment, line.slice(last, match.index), classes);
    last = match.index + match[0].length;
    classes = apply(classes, (match[1] || '0').split(';').map(Number));
  }
  push(fragment, line.slice(last), classes);
  // Any other escape sequence (cursor moves) is dropped.
  return fragment;
}

/** @param {DocumentFragment} fragment @param {string} text @param {string[]} classes */
function push(fragment, text, classes) {
  const clean = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  if (!clean) return;
  if (classes.length === 0) return void fragment.append(clean);
  const span = document.createElement('span');
  span.className = classes.join(' ');
  span.textContent = clean;
  fragment.append(span);
}

/** @param {string[]} classes @param {number[]} codes */
function apply(classes, codes) {
  let next = [...classes];
  for (const code of codes) {
    if (code === 0) next = [];
    else if (code === 1) next.push('b');
    else if (code === 2) next.push('d');
    else if (code === 3) next.push('i');
    else if (code === 4) next.push('u');
    else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) next = [...next.filter((c) => !c.startsWith('f')), `f${code}`];
    else if (code === 39) next = next.filter((c) => !c.startsWith('f'));
  }
  return next;
}
