// Admin: the audit trail, newest first, filtered by user and action, a page at a time: "Older"
// asks for the entries before the last one shown (the API's `next`).

import type { AuditEntry } from '@sluice/api';
import { useState } from 'preact/hooks';
import { api, ok } from '../api/client.ts';
import { LoadView } from '../components/load-view.tsx';
import { formatTime } from '../format.ts';
import { useLoad } from '../use-load.ts';

const PAGE_SIZE = 50;

interface AuditFilter {
  readonly user: string;
  readonly action: string;
}

export function AuditPage() {
  const [filter, setFilter] = useState<AuditFilter>({ user: '', action: '' });
  // The `before` of each page shown so far; the last is the page on screen.
  const [pages, setPages] = useState<readonly (number | undefined)[]>([undefined]);
  const before = pages.at(-1);
  const load = useLoad(
    () =>
      ok(
        api.GET('/v1/audit', {
          params: {
            query: {
              limit: PAGE_SIZE,
              ...(filter.user === '' ? {} : { user: filter.user }),
              ...(filter.action === '' ? {} : { action: filter.action }),
              ...(before === undefined ? {} : { before }),
            },
          },
        }),
      ),
    [filter.user, filter.action, before],
  );
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setFilter({
      user: String(form.get('user') ?? '').trim(),
      action: String(form.get('action') ?? '').trim(),
    });
    setPages([undefined]);
  };
  return (
    <section>
      <h1>Audit log</h1>
      <form class="inline" onSubmit={submit} aria-label="Filter the audit log">
        <label>
          User
          <input name="user" defaultValue={filter.user} />
        </label>
        <label>
          Action
          <input name="action" defaultValue={filter.action} placeholder="rule.push" />
        </label>
        <button type="submit">Filter</button>
      </form>
      <LoadView
        load={load}
        what="the audit log"
        empty={(data) => (data.entries.length === 0 ? 'No entries.' : null)}
      >
        {(data) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">User</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">From</th>
                </tr>
              </thead>
              <tbody>
                {data.entries.map((entry: AuditEntry) => (
                  <tr key={entry.id} data-testid="audit-entry" data-id={entry.id}>
                    <td>{formatTime(entry.at)}</td>
                    <td>{entry.user ?? '—'}</td>
                    <td>{entry.action}</td>
                    <td>{entry.target ?? '—'}</td>
                    <td>{entry.outcome}</td>
                    <td>{entry.from ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div class="actions">
              <button
                type="button"
                disabled={pages.length === 1}
                onClick={() => setPages(pages.slice(0, -1))}
              >
                Newer
              </button>
              <button
                type="button"
                disabled={data.next === null}
                onClick={() => setPages([...pages, data.next ?? undefined])}
              >
                Older
              </button>
            </div>
          </>
        )}
      </LoadView>
    </section>
  );
}
