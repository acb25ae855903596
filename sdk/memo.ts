/**
 * A lookup cached by key, for the life of an executor (a function's current version, an
 * endpoint's queue URL). A failed lookup is forgotten, so the next call asks again.
 */
export function memoized<V>(load: (key: string) => Promise<V>): (key: string) => Promise<V> {
  const cache = new Map<string, Promise<V>>();
  return (key) => {
    let value = cache.get(key);
    if (!value) {
      value = load(key);
      value.catch(() => cache.delete(key));
      cache.set(key, value);
    }
    return value;
  };
}
