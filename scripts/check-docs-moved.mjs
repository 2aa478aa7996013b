#!/usr/bin/env node
/**
 * Checks that splitting the README into docs/ lost nothing: every paragraph, list item, table row,
 * heading and code line of README.md at a given git revision must still appear, word for word, in
 * today's README.md or a file under docs/. Why a script: the README was cut from 906 lines to a
 * front door, and "every fact moves, none is dropped" is only a promise if something checks it.
 *
 * Link targets are ignored (`[text](#anchor)` becomes `[text]`), since a moved section links across
 * files; so are heading levels, line breaks inside a paragraph, and what a formatter may change
 * (Prettier pads table cells, writes `| --- |` separators and `_emphasis_` for `*emphasis*`).
 *
 *   node scripts/check-docs-moved.mjs <git-rev>     exit 0: nothing lost; exit 1: lists what is missing
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const rev = process.argv[2];
if (!rev) {
  console.error('usage: node scripts/check-docs-moved.mjs <git-rev>');
  process.exit(2);
}

/** The same text, whatever the link targets, heading levels and line breaks. */
const normalise = (text) =>
  text
    .replace(/\]\([^)\s]*\)/g, ']')
    .replace(/^#+ /gm, '')
    .replace(/\|\s*:?-{3,}:?\s*(?=\|)/g, '|-')
    .replace(/(?<![*\w])[*_](?![*\s])([^*_\n]+?)(?<![*\s])[*_](?![*\w])/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();

/** Blocks of Markdown: a paragraph or a list item (continuation lines joined), a table row, a code line, a heading. */
function blocks(markdown) {
  const out = [];
  let current = [];
  let inCode = false;
  const flush = () => {
    if (current.length > 0) out.push(current.join(' '));
    current = [];
  };
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      flush();
      inCode = !inCode;
      continue;
    }
    if (inCode || line.startsWith('|') || line.startsWith('#')) {
      flush();
      if (line.trim() !== '') out.push(line);
      continue;
    }
    if (line.trim() === '') flush();
    else if (/^\s*(- |\d+\. )/.test(line)) {
      flush();
      current.push(line.replace(/^\s*(- |\d+\. )/, ''));
    } else current.push(line);
  }
  flush();
  return out;
}

const before = execFileSync('git', ['show', `${rev}:README.md`], { cwd: root, encoding: 'utf8' });
const now = [
  'README.md',
  ...readdirSync(`${root}/docs`)
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]
  .map((file) => normalise(readFileSync(`${root}/${file}`, 'utf8').split('\n').join('\n')))
  .join('\n');
const missing = blocks(before)
  .map(normalise)
  .filter((block) => block !== '' && !now.includes(block));
for (const block of missing) console.log(`missing: ${block}`);
console.log(`${missing.length} of ${blocks(before).length} blocks of README.md at ${rev} missing from README.md and docs/`);
process.exit(missing.length === 0 ? 0 : 1);
