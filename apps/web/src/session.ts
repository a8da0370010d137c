// Who is logged in, as the app shell holds it.

import type { User } from '@sluice/api';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export const SessionContext = createContext<User | null>(null);

export function useUser(): User {
  const user = useContext(SessionContext);
  if (user === null) throw new Error('useUser outside a logged-in page');
  return user;
}
