/**
 * A map of at most `max` entries: the least recently used go first. Reading an entry (get) or writing it
 * (set) makes it the most recent; `peek` reads without that. The one bounded cache of Kupe: verified key
 * rows (src/store/fast-paths.ts), verified access tokens (src/oidc/access-tokens.ts), the in-memory
 * limiters' counts (src/limits/memory.ts) and SQLite's prepared statements. A `max` of 0 keeps nothing.
 * No imports: every layer may use it.
 */
export class Lru<K, V> {
  readonly #entries = new Map<K, V>();
  readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  peek(key: K): V | undefined {
    return this.#entries.get(key);
  }

  set(key: K, value: V): void {
    if (this.max <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value!);
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Oldest first; deleting the entry being visited is allowed. */
  entries(): IterableIterator<[K, V]> {
    return this.#entries.entries();
  }
}
