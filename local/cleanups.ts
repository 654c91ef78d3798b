/**
 * What a start-up acquired, released in reverse order: a failure half-way
 * through start-up, Ctrl-C and a test's teardown all stop exactly what was
 * started, and one failed release never keeps the others from running.
 */
export class Cleanups {
  private readonly steps: Array<() => Promise<void> | void> = [];

  constructor(private readonly log: (message: string) => void) {}

  push(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  async runAll(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        this.log(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
