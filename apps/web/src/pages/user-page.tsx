// One user's grants, quotas and tokens: for an admin any user (with the forms that change
// them), for everyone their own (`/account`, read-only but for their tokens).

import { useUser } from '../session.ts';
import { GrantsSection } from './grants-section.tsx';
import { QuotasSection } from './quotas-section.tsx';
import { TokensSection } from './tokens-section.tsx';

export function UserPage({ name }: { name: string | null }) {
  const me = useUser();
  const admin = me.role === 'admin';
  const user = name ?? me.name;
  return (
    <section>
      <h1>{name === null ? 'Your account' : `User ${name}`}</h1>
      {name === null && <a href="/account/password">Change your password</a>}
      <GrantsSection user={name === null && !admin ? 'me' : user} admin={admin} />
      <QuotasSection user={user} admin={admin} />
      <TokensSection user={user} />
    </section>
  );
}
