// One way to declare and raise errors in every area of sluice (config, core, edge, server, ctl,
// bench, ...). An area writes one table, a row a code, and gets back the helpers that raise,
// recognise and serialise its errors, so the CLI's `code: message` line, the API body, the logs
// and docs/errors.md all come from the same row.

/** One row of an area's table. The message is a template: `{name}` takes `details.name`. */
export interface ErrorRow {
  readonly message: string;
  /** The HTTP status, where the error crosses the operator API. */
  readonly status?: number;
  /** The process exit code, where the error ends a command. */
  readonly exitCode?: number;
}

export type ErrorTable = Readonly<Record<string, ErrorRow>>;

export type ErrorDetails = Readonly<Record<string, unknown>>;

/** What an error is as data: across a thread, a process, an API body or a JSON report. */
export interface SluiceErrorData<C extends string = string> {
  readonly code: C;
  readonly message: string;
  readonly details: ErrorDetails;
}

/** Fills `{name}` from values; a name with no value stays as it is, so a gap is visible. */
export function renderTemplate(template: string, values: ErrorDetails): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    Object.hasOwn(values, key) && values[key] !== undefined ? String(values[key]) : whole,
  );
}

export class SluiceError<C extends string = string> extends Error {
  readonly area: string;
  readonly code: C;
  readonly details: ErrorDetails;
  readonly status: number | undefined;
  readonly exitCode: number | undefined;

  constructor(area: string, code: C, row: ErrorRow, details: ErrorDetails, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SluiceError';
    this.area = area;
    this.code = code;
    this.details = details;
    this.status = row.status;
    this.exitCode = row.exitCode;
  }

  toData(): SluiceErrorData<C> {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export interface RaiseOptions {
  /** A sentence more specific than the row's template, for a caller that has one. */
  readonly message?: string;
  readonly cause?: unknown;
}

export interface AreaErrors<T extends ErrorTable> {
  readonly area: string;
  readonly table: T;
  readonly codes: readonly (keyof T & string)[];
  /** Whether a string is a code of this table (an API answer, a frame, a report). */
  isCode(code: string): code is keyof T & string;
  /** The error to throw. */
  error<C extends keyof T & string>(code: C, details?: ErrorDetails, options?: RaiseOptions): SluiceError<C>;
  /** The same error as plain data, for what crosses a thread or goes into a report. */
  data<C extends keyof T & string>(
    code: C,
    details?: ErrorDetails,
    options?: RaiseOptions,
  ): SluiceErrorData<C>;
  /** Whether a caught value is an error of this area. */
  is(value: unknown): value is SluiceError<keyof T & string>;
  /** The message the row renders with these details. */
  message(code: keyof T & string, details?: ErrorDetails): string;
}

/**
 * Declares an area's error table. `area` names it in docs/errors.md and tells apart two areas
 * that share a code (`usage`, `timeout`).
 */
export function defineErrors<const T extends ErrorTable>(area: string, table: T): AreaErrors<T> {
  type Code = keyof T & string;
  const codes = Object.keys(table) as Code[];
  const isCode = (code: string): code is Code => Object.hasOwn(table, code);
  const message = (code: Code, details: ErrorDetails = {}) => renderTemplate(table[code]!.message, details);
  return {
    area,
    table,
    codes,
    isCode,
    message,
    error(code, details = {}, options = {}) {
      const text = options.message ?? message(code, details);
      return new SluiceError(area, code, table[code]!, details, text, options.cause);
    },
    data(code, details = {}, options = {}) {
      return { code, message: options.message ?? message(code, details), details };
    },
    is(value): value is SluiceError<Code> {
      return value instanceof SluiceError && value.area === area && isCode(value.code);
    },
  };
}
