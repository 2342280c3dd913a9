import * as v from 'valibot';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { configSchema, KNOWN_FIELDS, type PortbrokerConfigInput } from './schema.js';

/** Checks a loaded config against the schema; throws one `ConfigError` listing every problem. */
export function validateConfig(input: unknown, file: string): PortbrokerConfigInput {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError(file, [
      { path: '', message: `must export a config object (export default defineConfig({ services: { … } })), got ${describe(input)}` },
    ]);
  }
  const result = v.safeParse(configSchema, input, { abortEarly: false });
  if (result.success) return result.output;
  throw new ConfigError(file, result.issues.map(toProblem));
}

function toProblem(issue: v.BaseIssue<unknown>): ConfigProblem {
  const keys = (issue.path ?? []).map((item) => item.key as string | number);
  const path = formatPath(keys);
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    const field = String(keys[keys.length - 1]);
    const hint = suggest(field, KNOWN_FIELDS[level(keys.slice(0, -1))] ?? []);
    return { path, message: `unknown field "${field}"${hint ? ` (did you mean "${hint}"?)` : ''}` };
  }
  if (issue.kind === 'validation') return { path, message: issue.message };
  if (issue.input === undefined && keys.length > 0) return { path, message: `is required` };
  return { path, message: `expected ${friendlyExpected(issue)}, got ${describe(issue.input)}` };
}

function formatPath(keys: Array<string | number>): string {
  return keys
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? (i ? `.${key}` : key) : `[${JSON.stringify(key)}]`))
    .join('');
}

/** Which object an unknown key sits in, to suggest its known fields. */
function level(parent: Array<string | number>): string {
  if (parent.length === 0) return '';
  if (parent[0] === 'services' && parent.length === 2) return 'service';
  if (parent[0] === 'services' && parent[2] === 'ready') return 'ready';
  return String(parent[0]);
}

function friendlyExpected(issue: v.BaseIssue<unknown>): string {
  switch (issue.type) {
    case 'strict_object':
    case 'object':
      return 'an object';
    case 'record':
      return 'an object';
    case 'array':
    case 'tuple':
      return issue.type === 'tuple' ? 'a [low, high] pair' : 'an array';
    default:
      return (issue.expected ?? 'another value').replace(/\s*\|\s*/g, ' or ').replace(/^\(|\)$/g, '');
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof RegExp) return String(value);
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'object':
      return 'an object';
    case 'undefined':
      return 'nothing';
    case 'function':
      return 'a function';
    default:
      return `${typeof value} ${String(value)}`;
  }
}

/** The closest known field within edit distance 2, for typos such as `comand`. */
export function suggest(field: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(field.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
