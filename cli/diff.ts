/**
 * @module
 * A line diff for `--dry-run`: what a command would change in a file, in unified style with a few
 * lines of context. Client config files keep inline passwords under `auths`, so values of secret
 * fields are masked in every line shown.
 */

const CONTEXT = 2;
/** Above this many line pairs the diff shows the whole file replaced instead of searching. */
const MAX_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; line: string };

const SECRET_FIELD = /("(?:auth|password|identitytoken|registrytoken|secret)"\s*:\s*")((?:[^"\\]|\\.)*)(")/gi;

export function maskSecrets(line: string): string {
  return line.replace(SECRET_FIELD, (_, open: string, value: string, close: string) => `${open}${value ? '***' : ''}${close}`);
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Longest-common-subsequence edit script; files here are a few hundred lines at most. */
function editScript(before: string[], after: string[]): Op[] {
  const n = before.length;
  const m = after.length;
  if (n * m > MAX_CELLS) {
    return [...before.map((line): Op => ({ kind: '-', line })), ...after.map((line): Op => ({ kind: '+', line }))];
  }
  const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i]![j] = before[i] === after[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      ops.push({ kind: ' ', line: before[i++]! });
      j++;
    } else if (i < n && (j === m || table[i + 1]![j]! >= table[i]![j + 1]!)) {
      ops.push({ kind: '-', line: before[i++]! }); // removals first, as diff(1) prints them
    } else {
      ops.push({ kind: '+', line: after[j++]! });
    }
  }
  return ops;
}

/** A unified-style diff of two texts, secrets masked; '' when they are equal. */
export function unifiedDiff(before: string, after: string, labels: { before: string; after: string }): string {
  if (before === after) return '';
  const ops = editScript(splitLines(before), splitLines(after));
  const keep = ops.map((_op, index) => ops.slice(Math.max(0, index - CONTEXT), index + CONTEXT + 1).some((near) => near.kind !== ' '));
  const out = [`--- ${labels.before}`, `+++ ${labels.after}`];
  let oldLine = 1;
  let newLine = 1;
  for (let index = 0; index < ops.length; index++) {
    const op = ops[index]!;
    if (keep[index] && (index === 0 || !keep[index - 1])) out.push(hunkHeader(ops, keep, index, oldLine, newLine));
    if (keep[index]) out.push(`${op.kind}${maskSecrets(op.line)}`);
    if (op.kind !== '+') oldLine++;
    if (op.kind !== '-') newLine++;
  }
  return `${out.join('\n')}\n`;
}

function hunkHeader(ops: Op[], keep: boolean[], start: number, oldLine: number, newLine: number): string {
  let oldCount = 0;
  let newCount = 0;
  for (let index = start; index < ops.length && keep[index]; index++) {
    if (ops[index]!.kind !== '+') oldCount++;
    if (ops[index]!.kind !== '-') newCount++;
  }
  return `@@ -${oldCount ? oldLine : oldLine - 1},${oldCount} +${newCount ? newLine : newLine - 1},${newCount} @@`;
}
