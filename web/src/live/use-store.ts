import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { LiveStore } from './live-store.js';

/** Re-renders the caller whenever the live store changes (at most once per stream message). */
export function useStoreVersion(store: LiveStore): number {
  return useStoreValue(store, () => store.version);
}

/** Re-renders the caller only when what `read` returns changes (a primitive: a version, a timestamp). */
export function useStoreValue<T>(store: LiveStore, read: () => T): T {
  return useSyncExternalStore((listener) => store.subscribe(listener), read);
}

/**
 * What `read` makes of the store, re-read at most once per `intervalMs`: for views that summarise the whole
 * city (the summary strip), where a second's delay is invisible. `read` gets its previous result and returns
 * that same object when nothing it holds changed, and the caller then does not re-render.
 */
export function useThrottledStoreValue<T>(store: LiveStore, intervalMs: number, read: (previous: T | undefined) => T): T {
  const [value, setValue] = useState(() => read(undefined));
  const readRef = useRef(read);
  readRef.current = read;
  useEffect(() => {
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const update = () => {
      timer = undefined;
      last = Date.now();
      setValue((previous) => readRef.current(previous));
    };
    const unsubscribe = store.subscribe(() => {
      if (timer) return;
      timer = setTimeout(update, Math.max(0, last + intervalMs - Date.now()));
    });
    return () => {
      unsubscribe();
      clearTimeout(timer);
    };
  }, [store, intervalMs]);
  return value;
}
