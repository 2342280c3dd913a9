/**
 * The first services of a session are spawned in one tick behind one gate, opened once all are spawned (see
 * `SpawnOptions.gate`): spawned one after another, each would wait for CPU behind those already booting.
 * Created before the supervisors and handed to each; later starts (a restart, an on-demand start) find it open.
 */
export class SpawnBurst {
  private gate: Promise<void> | undefined;

  /** Opens the gate on the next turn of the event loop, once every spawn of this tick is under way. */
  begin(): void {
    this.gate = new Promise<void>((open) =>
      setImmediate(() => {
        this.gate = undefined;
        open();
      }),
    );
  }

  /** What a spawn waits for now: nothing outside a burst. */
  current(): Promise<void> | undefined {
    return this.gate;
  }
}
