import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastLines, LogFollower } from '../../src/runner/log-reader.js';

/** The reading side of a service's log file (`logs`, the MCP server and the dashboard read it): tails and following. */

let dir: string;
const cleanups: Array<() => void> = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pb-log-reader-'));
});

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('the log reader', () => {
  it('ends lines at \\n and at \\r\\n, in a tail and while following, also when a read ends between the \\r and the \\n', () => {
    const file = path.join(dir, 'crlf.log');
    writeFileSync(file, 'one\r\ntwo\nthree\r\n');
    const tail = lastLines(file, 10);
    expect(tail.lines).toEqual(['one', 'two', 'three']);
    const batches: string[][] = [];
    const follower = new LogFollower(file, tail.position, (lines) => batches.push(lines), { pollMs: 0 });
    cleanups.push(() => follower.close());
    appendFileSync(file, 'four\r');
    follower.pump();
    appendFileSync(file, '\nfive\r\nsix \r x\nseven \r');
    follower.pump();
    // A `\r` the next read does not follow with `\n` stays in its line.
    appendFileSync(file, 'eight\n');
    follower.pump();
    expect(batches.flat()).toEqual(['four', 'five', 'six \r x', 'seven \reight']);
  });

  it('a tail of no lines is where the file ends: a follower from there gets only what comes after', () => {
    const file = path.join(dir, 'api.log');
    writeFileSync(file, Array.from({ length: 5000 }, (_, i) => `old ${i}`).join('\n') + '\n');
    const tail = lastLines(file, 0);
    expect(tail.lines).toEqual([]);
    expect(tail.position).toEqual({ offset: statSync(file).size, ino: statSync(file).ino });
    const batches: string[][] = [];
    const follower = new LogFollower(file, tail.position, (lines) => batches.push(lines), { pollMs: 0 });
    cleanups.push(() => follower.close());
    appendFileSync(file, 'new\n');
    follower.pump();
    expect(batches.flat()).toEqual(['new']);
  });
});
