// Hands out counter slots; the lowest free slot first so the buffer's used part stays dense.

export class SlotAllocator {
  private readonly free: number[] = [];
  private nextUnused = 0;
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  take(): number | null {
    if (this.free.length > 0) return this.free.pop()!;
    if (this.nextUnused >= this.capacity) return null;
    return this.nextUnused++;
  }

  give(slot: number): void {
    this.free.push(slot);
  }
}
