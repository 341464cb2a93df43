import { useEffect, useState, useSyncExternalStore } from 'react';
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
 * The store's version, but re-rendering at most once per `intervalMs`: for views that walk the whole
 * city (the summary strip), where a second's delay is invisible and 10,000 devices are not.
 */
export function useThrottledStoreVersion(store: LiveStore, intervalMs: number): number {
  const [version, setVersion] = useState(store.version);
  useEffect(() => {
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const update = () => {
      timer = undefined;
      last = Date.now();
      setVersion(store.version);
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
  return version;
}
