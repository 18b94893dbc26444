// localStorage and sessionStorage throw in some privacy modes and sandboxed frames. The
// widget must still work there, so it falls back to memory: the conversation then lasts
// as long as the page instead of surviving a reload.

/** `get(store, key)` / `set(store, key, value)` on `win[store]`, or on memory when it fails. */
export function createStorage(win) {
  const memory = {};
  return {
    get(store, key) {
      try {
        return win[store].getItem(key);
      } catch {
        return memory[store + key] || null;
      }
    },
    set(store, key, value) {
      try {
        win[store].setItem(key, value);
      } catch {
        memory[store + key] = value;
      }
    }
  };
}
