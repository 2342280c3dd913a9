import pc from 'picocolors';
import { stripAnsi } from '../platform/ansi.js';
import { withInvocation } from './invocation.js';

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Everything the CLI prints goes through here: colour only on a TTY and never with NO_COLOR, tables sized to
 * their content, JSON exactly as the command returned it.
 */

export function colorsFor(stream: NodeJS.WriteStream): Colors {
  const env = process.env;
  const enabled = !('NO_COLOR' in env) && env.TERM !== 'dumb' && (Boolean(stream.isTTY) || ('FORCE_COLOR' in env && env.FORCE_COLOR !== '0'));
  return pc.createColors(enabled);
}

export const out = colorsFor(process.stdout);
export const err = colorsFor(process.stderr);

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`${err.yellow('portbroker: warning:')} ${withInvocation(message)}\n`);
}

const visibleLength = (text: string) => stripAnsi(text).length;

/** A plain aligned table; cells may carry colour codes. */
export function table(header: string[], rows: string[][]): string {
  // A loop, not Math.max(...rows): spreading 200k rows into arguments overflows the stack.
  const widths = header.map((h, i) => rows.reduce((width, r) => Math.max(width, visibleLength(r[i] ?? '')), visibleLength(h)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  return [line(header.map((h) => out.bold(h))), ...rows.map(line)].join('\n');
}

/** A Markdown table, for pasting into a project's docs. */
export function markdownTable(header: string[], rows: string[][]): string {
  const esc = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function stateColor(state: string): string {
  switch (state) {
    case 'running':
      return out.green(state);
    case 'starting':
    case 'orphaned':
      return out.yellow(state);
    case 'crashed':
      return out.red(state);
    default:
      return out.dim(state);
  }
}
