import { describe, expect, it } from 'vitest';
import { LATEST_EVERY_MS, LatestLines } from '../../src/dashboard/log-batches.js';

/** What a `latest` view's events say, read back: the lines shown, and the lines counted as left out. */
function read(batch: { events: string[]; lines: number } | undefined): { shown: string[]; left: number; lines: number } | undefined {
  if (!batch) return undefined;
  const shown: string[] = [];
  let left = 0;
  for (const event of batch.events) {
    const data = /^data: (.*)$/m.exec(event)![1]!;
    if (event.startsWith('event: lines')) shown.push(...(JSON.parse(data) as Array<{ text: string }>).map((line) => line.text));
    else left += (JSON.parse(data) as { lines: number; reason: string }).lines;
  }
  return { shown, left, lines: batch.lines };
}

describe('LatestLines (a latest view between its events)', () => {
  it('sends the first lines at once, then holds the next until a second has passed, keeping the newest and counting the rest', () => {
    const view = new LatestLines('api', 3, undefined);
    expect(view.take(0, 0)).toBeUndefined(); // nothing yet
    view.add(['a', 'b']);
    expect(read(view.take(0, 0))).toEqual({ shown: ['a', 'b'], left: 0, lines: 2 });
    view.add(['c', 'd']);
    view.add(['e', 'f', 'g', 'h']);
    expect(view.take(LATEST_EVERY_MS - 1, 0)).toBeUndefined();
    view.add(['i']);
    expect(read(view.take(LATEST_EVERY_MS, 0))).toEqual({ shown: ['g', 'h', 'i'], left: 4, lines: 7 });
    // Sent: nothing is held, however late it is asked.
    expect(view.take(10 * LATEST_EVERY_MS, 0)).toBeUndefined();
  });

  it('is on time within the slack, and a joining stream takes what it holds at once (an infinite slack)', () => {
    const view = new LatestLines('api', 2, undefined);
    view.add(['a']);
    view.take(0, 0);
    view.add(['b']);
    expect(view.take(LATEST_EVERY_MS - 250, 249)).toBeUndefined();
    expect(read(view.take(LATEST_EVERY_MS - 250, 250))?.shown).toEqual(['b']);
    view.add(['c', 'd', 'e']);
    expect(read(view.take(LATEST_EVERY_MS - 249, Infinity))).toEqual({ shown: ['d', 'e'], left: 1, lines: 3 });
  });

  it('keeps only the lines its query matches, counting none of the others', () => {
    const view = new LatestLines('api', 2, 'ERROR');
    view.add(['ok 1', 'error 1', 'ok 2', 'Error 2', 'error 3']);
    expect(read(view.take(0, 0))).toEqual({ shown: ['Error 2', 'error 3'], left: 1, lines: 3 });
    view.add(['ok 3']);
    expect(view.take(2 * LATEST_EVERY_MS, 0)).toBeUndefined();
  });
});
