// A PostgreSQL store's URL as messages and logs name it: never with its password.

/** The URL without its password, for messages. */
export function describePostgres(url: string): string {
  try {
    const parsed = new URL(url);
    return `PostgreSQL ${parsed.host}${parsed.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}
