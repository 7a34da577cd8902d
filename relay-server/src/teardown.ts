/**
 * The one list of things to close when the relay stops: each part adds its
 * closer once it has started, and run() closes them newest first (the
 * reverse of start order), awaiting each, whether the relay is closing
 * normally or a later part failed to start. Closing twice closes nothing.
 */
export class Teardown {
  private closers: Array<() => void | Promise<void>> = [];

  /** Close `fn` at teardown, before everything added earlier. */
  add(fn: () => void | Promise<void>): void {
    this.closers.unshift(fn);
  }

  async run(): Promise<void> {
    const closers = this.closers;
    this.closers = [];
    for (const close of closers) await close();
  }
}
