// Push a new rule, or change one: every rule field, checked in the browser by the schema the
// server uses (so most mistakes show before anything is sent), then the server's own answer:
// an error code and message shown next to the field it names (a listen outside the grant, a
// port in use, a taken name), or the rule's state as the edge acked it.

import type { Edge, Rule } from '@sluice/api';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, asApiError } from '../api/api-error.ts';
import { api, ok } from '../api/client.ts';
import { LoadView } from '../components/load-view.tsx';
import { Problem } from '../components/problem.tsx';
import { navigate } from '../router.ts';
import { type RuleFormValues, tableOf, valuesOf } from '../rules/rule-table.ts';
import { checkRule, type FieldErrors, fieldErrorsOf } from '../rules/rule-validation.ts';
import { useUser } from '../session.ts';
import { useLoad } from '../use-load.ts';

interface FormData {
  readonly edges: readonly Edge[];
  readonly rule: Rule | null;
}

function Field({
  name,
  label,
  errors,
  children,
}: {
  name: string;
  label: string;
  errors: FieldErrors;
  children: (describedBy: string | undefined, invalid: boolean) => ComponentChildren;
}) {
  const messages = errors[name] ?? [];
  const id = `field-error-${name.replace(/\W/g, '-')}`;
  // The message sits outside the label, so the control's name stays the label's text; it is
  // tied to the control by aria-describedby.
  return (
    <div class="field" data-field={name}>
      {/* biome-ignore lint/a11y/noLabelWithoutControl: the control comes from `children`, inside the label */}
      <label>
        {label}
        {children(messages.length > 0 ? id : undefined, messages.length > 0)}
      </label>
      {messages.length > 0 && (
        <span class="field-error" id={id} data-testid={`error-${name}`}>
          {messages.join('; ')}
        </span>
      )}
    </div>
  );
}

/** The id of the rule an ack_timeout left pending: the one edited, or the new one by its name. */
async function pendingRule(editing: string | null, edge: string, name: string): Promise<string | null> {
  if (editing !== null) return editing;
  try {
    const list = await ok(api.GET('/v1/rules', { params: { query: { edge } } }));
    return list.rules.find((rule) => rule.name === name)?.id ?? null;
  } catch {
    return null;
  }
}

export function RuleFormPage({ id }: { id: string | null }) {
  const user = useUser();
  const load = useLoad(async (): Promise<FormData> => {
    const [edges, rule] = await Promise.all([
      ok(api.GET('/v1/edges')),
      id === null ? Promise.resolve(null) : ok(api.GET('/v1/rules/{id}', { params: { path: { id } } })),
    ]);
    return { edges: edges.edges, rule };
  }, [id]);
  return (
    <section>
      <h1>{id === null ? 'New rule' : 'Edit rule'}</h1>
      <LoadView load={load} what="the form">
        {(data) => <RuleForm data={data} admin={user.role === 'admin'} />}
      </LoadView>
    </section>
  );
}

function RuleForm({ data, admin }: { data: FormData; admin: boolean }) {
  const editing = data.rule;
  const [values, setValues] = useState<RuleFormValues>(() => {
    if (editing === null) return { protocol: 'tcp', balance: 'failover', proxy_protocol: 'off' };
    const { owner: _owner, ...table } = editing.rule;
    return valuesOf(table);
  });
  const [edge, setEdge] = useState(editing?.edge.id ?? data.edges[0]?.id ?? '');
  const [owner, setOwner] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const set = (key: string) => (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    setValues({ ...values, [key]: input.type === 'checkbox' ? String(input.checked) : input.value });
  };

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setProblem(null);
    const table = tableOf(values);
    const local = checkRule(table);
    if (editing === null && edge === '') {
      setErrors({ ...(local ?? {}), edge: ['edge: choose the edge to push to'] });
      return;
    }
    if (local !== null) {
      setErrors(local);
      setProblem(new ApiError('bad_request', 'the rule has errors: see the fields marked', 0));
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const rule =
        editing === null
          ? await ok(
              api.POST('/v1/rules', {
                body: { edge, rule: table, ...(owner.trim() === '' ? {} : { owner: owner.trim() }) },
              }),
            )
          : await ok(
              api.PUT('/v1/rules/{id}', { params: { path: { id: editing.id } }, body: { rule: table } }),
            );
      navigate(`/rules/${encodeURIComponent(rule.id)}`);
    } catch (failure) {
      const error = asApiError(failure);
      // The edge did not answer in time: the rule is stored and stays pending until it does, so
      // its page (which follows the state) is where to go.
      if (error.code === 'ack_timeout') {
        const pending = await pendingRule(editing?.id ?? null, edge, String(table.name ?? ''));
        if (pending !== null) {
          navigate(`/rules/${encodeURIComponent(pending)}`);
          return;
        }
      }
      // Messages about a field the form shows go next to it; the rest above the button.
      const shown: Record<string, string[]> = {};
      const rest: string[] = [];
      for (const [field, messages] of Object.entries(fieldErrorsOf(error.code, error.message))) {
        if (document.querySelector(`[data-field="${CSS.escape(field)}"]`) === null) rest.push(...messages);
        else shown[field] = messages.map((m) => `${error.code}: ${m}`);
      }
      setErrors(shown);
      setProblem(
        rest.length === 0
          ? new ApiError(error.code, 'see the fields marked', error.status)
          : new ApiError(error.code, rest.join('; '), error.status),
      );
    } finally {
      setBusy(false);
    }
  };

  const text = (name: string, label: string, placeholder?: string) => (
    <Field name={name} label={label} errors={errors}>
      {(describedBy, invalid) => (
        <input
          name={name}
          value={values[name] ?? ''}
          placeholder={placeholder}
          onInput={set(name)}
          aria-describedby={describedBy}
          aria-invalid={invalid}
        />
      )}
    </Field>
  );
  const select = (name: string, label: string, options: readonly string[]) => (
    <Field name={name} label={label} errors={errors}>
      {(describedBy, invalid) => (
        <select
          name={name}
          value={values[name] ?? options[0]}
          onChange={set(name)}
          aria-describedby={describedBy}
          aria-invalid={invalid}
        >
          {options.map((option) => (
            <option key={option}>{option}</option>
          ))}
        </select>
      )}
    </Field>
  );
  const lines = (name: string, label: string, placeholder: string) => (
    <Field name={name} label={label} errors={errors}>
      {(describedBy, invalid) => (
        <textarea
          name={name}
          rows={3}
          value={values[name] ?? ''}
          placeholder={placeholder}
          onInput={set(name)}
          aria-describedby={describedBy}
          aria-invalid={invalid}
        />
      )}
    </Field>
  );
  const check = (name: string, label: string) => (
    <label class="checkbox">
      <input type="checkbox" name={name} checked={values[name] === 'true'} onChange={set(name)} /> {label}
    </label>
  );

  return (
    <form onSubmit={submit} aria-label="Rule" noValidate>
      <fieldset>
        <legend>Where</legend>
        <div class="form-grid">
          {editing === null ? (
            <Field name="edge" label="Edge" errors={errors}>
              {(describedBy, invalid) => (
                <select
                  value={edge}
                  onChange={(e) => setEdge(e.currentTarget.value)}
                  aria-describedby={describedBy}
                  aria-invalid={invalid}
                >
                  {data.edges.length === 0 && <option value="">no edges</option>}
                  {data.edges.map((e) => (
                    <option key={e.id} value={e.id}>
                      {e.name}
                      {e.connected ? '' : ' (not connected)'}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : (
            <p>
              Edge: <strong>{editing.edge.name}</strong>, owner <strong>{editing.owner}</strong>
            </p>
          )}
          {editing === null && admin && (
            <Field name="owner" label="Owner (default: you)" errors={errors}>
              {(describedBy) => (
                <input
                  value={owner}
                  onInput={(e) => setOwner(e.currentTarget.value)}
                  aria-describedby={describedBy}
                />
              )}
            </Field>
          )}
          {text('name', 'Name', 'web')}
          {text('listen', 'Listen', '0.0.0.0:8080 or 0.0.0.0:9000-9010')}
          {select('protocol', 'Protocol', ['tcp', 'udp'])}
        </div>
      </fieldset>
      <fieldset>
        <legend>Targets</legend>
        <div class="form-grid">
          {lines('targets', 'Targets (one per line, 1 to 8)', '10.0.0.5:80')}
          {select('balance', 'Balance', ['failover', 'round-robin'])}
          {lines('sni', 'SNI routes (NAME = TARGET per line)', 'a.example.com = 10.0.0.7:443')}
          {text('connect_timeout_ms', 'Connect timeout (ms)', '3000')}
          {text('health_check_interval_secs', 'Health check every (s)', 'off')}
          {check('prefer_ipv6', 'Prefer IPv6 for DNS targets')}
        </div>
      </fieldset>
      <fieldset>
        <legend>PROXY protocol and timeouts</legend>
        <div class="form-grid">
          {select('proxy_protocol', 'PROXY protocol to the target', ['off', 'v1', 'v2'])}
          {check('accept_proxy', 'Read a PROXY header from the client')}
          {text('idle_timeout_secs', 'Idle timeout (s)', '60')}
          {text('half_close_timeout_secs', 'Half-close timeout (s)', '60')}
          {text('max_flows', 'UDP: max flows', '1024')}
          {text('udp_receive_buffer', 'UDP: receive buffer', '4MiB')}
        </div>
      </fieldset>
      <fieldset>
        <legend>Limits</legend>
        <div class="form-grid">
          {text('limits.bandwidth', 'Bandwidth', '100Mbit or 10MiB/s')}
          {text('limits.bandwidth_in', 'Bandwidth in')}
          {text('limits.bandwidth_out', 'Bandwidth out')}
          {text('limits.burst', 'Burst')}
          {text('limits.new_connections_per_sec', 'New connections per second')}
          {text('limits.new_connections_burst', 'New connections burst')}
          {text('limits.max_connections', 'Max connections')}
        </div>
      </fieldset>
      <Problem error={problem} />
      <button type="submit" disabled={busy}>
        {busy ? 'Pushing… (waiting for the edge)' : editing === null ? 'Push rule' : 'Save and push'}
      </button>
    </form>
  );
}
