// "Enroll an edge": makes a one-time code for a name and shows its URI and the command that
// redeems it, each with a copy button. The panel turns green when the edge named connects
// (the edges page polls the list and passes it in).

import { type Edge, type Enrollment, enrollmentBodySchema } from '@sluice/api';
import { useState } from 'preact/hooks';
import { ApiError, asApiError } from '../api/api-error.ts';
import { api, ok } from '../api/client.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { Problem } from '../components/problem.tsx';

export function EnrollEdge({ edges, onEnrolled }: { edges: readonly Edge[]; onEnrolled: () => void }) {
  const [enrollment, setEnrollment] = useState<Enrollment | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const ttl = String(form.get('ttl') ?? '').trim();
    const body = { edge: String(form.get('edge') ?? '').trim(), ...(ttl === '' ? {} : { ttl }) };
    const parsed = enrollmentBodySchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      setError(new ApiError('bad_request', `${issue.path.join('.')}: ${issue.message}`, 0));
      return;
    }
    try {
      setEnrollment(await ok(api.POST('/v1/enrollments', { body })));
      setError(null);
      onEnrolled();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };

  const edge = enrollment === null ? undefined : edges.find((e) => e.id === enrollment.edge.id);
  const connected = edge?.connected === true && edge.enrolledAt !== null;
  return (
    <section class="panel" aria-labelledby="enroll-title">
      <h2 id="enroll-title">Enroll an edge</h2>
      <form onSubmit={submit} class="inline" aria-label="Enroll an edge">
        <label>
          Edge name
          <input name="edge" required />
        </label>
        <label>
          Valid for
          <input name="ttl" placeholder="10m" size={5} />
        </label>
        <button type="submit">Make enrollment code</button>
      </form>
      <Problem error={error} />
      {enrollment !== null && (
        <div class={connected ? 'enrollment connected' : 'enrollment'} data-testid="enrollment">
          <p>Run on the edge host (valid until {new Date(enrollment.expiresAt).toLocaleTimeString()}):</p>
          <div class="copy-row">
            <code data-testid="enroll-command">{enrollment.command}</code>
            <CopyButton text={enrollment.command} label="Copy the command" />
          </div>
          <div class="copy-row">
            <code data-testid="enroll-uri">{enrollment.uri}</code>
            <CopyButton text={enrollment.uri} label="Copy the URI" />
          </div>
          <p role="status" data-testid="enroll-status">
            {connected
              ? `${enrollment.edge.name} is connected.`
              : `Waiting for ${enrollment.edge.name} to connect…`}
          </p>
        </div>
      )}
    </section>
  );
}
