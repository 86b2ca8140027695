// The job's files: tabs over a plain textarea (no editor library: a code editor component would
// outweigh the whole app; Tab inserts spaces, which is what Python needs most).
import { el } from './dom.js';

const EXAMPLE = `import os, sys

print("hello from the browser, args:", sys.argv[1:])
os.makedirs("out", exist_ok=True)
with open("out/result.txt", "w") as f:
    f.write("42\\n")
print("wrote out/result.txt")
`;

export function createFileEditor({ tabs, textarea, entrypoint, addForm, newName }) {
  const files = new Map([['main.py', EXAMPLE]]);
  let current = 'main.py';

  function render() {
    tabs.replaceChildren(...[...files.keys()].map((name) => el('span', { class: name === current ? 'tab active' : 'tab' },
      el('button', { type: 'button', role: 'tab', 'aria-selected': String(name === current), onclick: () => select(name) }, name),
      files.size > 1 ? el('button', { type: 'button', class: 'close', 'aria-label': `remove ${name}`, onclick: () => remove(name) }, '×') : null)));
    const chosen = entrypoint.value;
    entrypoint.replaceChildren(...[...files.keys()].map((name) => el('option', { value: name }, name)));
    entrypoint.value = files.has(chosen) ? chosen : [...files.keys()][0];
    textarea.value = files.get(current);
  }
  function select(name) {
    current = name;
    render();
    textarea.focus();
  }
  function remove(name) {
    files.delete(name);
    if (current === name) current = [...files.keys()][0];
    render();
  }

  textarea.addEventListener('input', () => files.set(current, textarea.value));
  textarea.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab' || e.shiftKey) return;
    e.preventDefault();
    textarea.setRangeText('    ', textarea.selectionStart, textarea.selectionEnd, 'end');
    files.set(current, textarea.value);
  });
  addForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = newName.value.trim();
    if (!name) return;
    if (!files.has(name)) files.set(name, '');
    newName.value = '';
    select(name);
  });
  render();

  return {
    /** path → text, as the builder's files() takes it. */
    files: () => Object.fromEntries(files),
    entrypoint: () => entrypoint.value,
  };
}
