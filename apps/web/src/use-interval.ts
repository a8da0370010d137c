// Calls `tick` every `ms` while the page is shown: the edges list refreshes itself this way,
// as the API has no event for an edge connecting.

import { useEffect } from 'preact/hooks';

export function useInterval(tick: () => void, ms: number): void {
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') tick();
    }, ms);
    return () => clearInterval(timer);
  }, [tick, ms]);
}
