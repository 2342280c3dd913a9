import { describe, expect, it } from 'vitest';
import type { EventStream } from '../../src/dashboard/sse.js';
import { StateFeed, type Snapshot } from '../../src/dashboard/state-feed.js';
import { until } from '../proxy/helpers.js';

/**
 * The live view's bookkeeping, with streams that record what they are sent (the HTTP side is api.test.ts): a page
 * that opens gets the whole state although nothing changed, unchanged state is not sent again, and a slow
 * snapshot (it reads /proc a slice at a time) is never run twice at once.
 */
function recorder(): EventStream & { events: string[]; writes: number; close(): void } {
  const closers: Array<() => void> = [];
  const stream = {
    events: [] as string[],
    writes: 0,
    closed: false,
    sendRaw: (event: string) => (stream.writes++, stream.events.push(event), true),
    // Whole events (`event: <name>\ndata: …`): their names are recorded.
    sendEvents: (events: readonly string[]) => (stream.writes++, stream.events.push(...events.map((event) => /^event: (\S+)/.exec(event)![1]!)), true),
    backlog: () => 0,
    writableReady: () => true,
    onClose: (listener: () => void) => void closers.push(listener),
    end: () => stream.close(),
    close: () => {
      stream.closed = true;
      for (const listener of closers) listener();
    },
  };
  return stream;
}

describe('StateFeed', () => {
  it('sends a page that opens the whole state at once, and the others only what changed', async () => {
    let state: Snapshot = { services: [{ service: 'api', state: 'running' }], proxy: { pid: 1 } };
    let running = 0;
    let most = 0;
    let snapshots = 0;
    // What a snapshot waits on before it answers (a pass over /proc in slices): the test holds it when it must.
    let gate: Promise<unknown> = Promise.resolve();
    let listener: (() => void) | undefined;
    const feed = new StateFeed(
      async () => {
        snapshots++;
        most = Math.max(most, ++running);
        await gate;
        running--;
        return state;
      },
      (l) => ((listener = l), () => (listener = undefined)),
    );
    const first = recorder();
    feed.add(first);
    await until(() => first.events.length === 2, 'the first page\'s state');
    expect(first.events).toEqual(['services', 'proxy']);
    // In one write: the page takes each as a task of its own.
    expect(first.writes).toBe(1);

    // Nothing changed: the second page gets everything, the first nothing more.
    const second = recorder();
    feed.add(second);
    await until(() => second.events.length === 2, 'the second page\'s state');
    expect(first.events).toHaveLength(2);

    // A registry change: both get the services, not the unchanged proxy. A second change comes while the snapshot
    // is still being taken: its snapshot runs after that one, never alongside it, and is not lost.
    let release!: () => void;
    gate = new Promise<void>((resolve) => (release = resolve));
    state = { ...state, services: [{ service: 'api', state: 'crashed' }] };
    const before = snapshots;
    listener!();
    await until(() => running === 1, 'a snapshot under way');
    listener!();
    const secondChange = Date.now();
    // Time for the second change's (debounced) tick to come while the first snapshot still waits.
    await until(() => Date.now() - secondChange > 250, 'the second change taken up');
    release();
    await until(() => first.events.length === 3 && second.events.length === 3, 'the change');
    await until(() => snapshots === before + 2 && running === 0, 'the snapshot asked for meanwhile');
    expect(first.events.at(-1)).toBe('services');
    expect(most).toBe(1);

    first.close();
    second.close();
    expect(listener).toBeUndefined(); // the last page gone, the feed stops
  });
});
