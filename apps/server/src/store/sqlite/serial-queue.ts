// Runs tasks one after another, in the order they were asked for. SQLite has one connection per
// store: a transaction that awaits between its statements must not let another caller's
// statements land inside it (they would commit or roll back with it), so every use of the
// connection takes its turn here.

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    // The next task waits for this one to settle, whether it succeeded or not.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
