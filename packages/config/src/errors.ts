// The config area's error table: one stable code per way a config can be refused, with the
// line template an operator reads and the process exit code. ConfigError is made from this
// table, so the CLI, the logs and the control plane all say the same thing for the same code.

export const CONFIG_ERRORS = {
  config_unreadable: {
    message: '{file}: cannot read the config file: {reason}',
    kind: 'io',
    exitCode: 2,
  },
  config_syntax: {
    message: '{file}:{line}:{column}: not valid TOML: {reason}',
    kind: 'syntax',
    exitCode: 2,
  },
  config_invalid: {
    message: '{file}: {path}: {reason}',
    kind: 'validation',
    exitCode: 2,
  },
} as const;

export type ConfigErrorCode = keyof typeof CONFIG_ERRORS;

/** One problem in a config, at a TOML-style key path such as `rules[1].listen`. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** The form a ConfigError takes when it crosses a thread or process boundary. */
export interface ConfigErrorData {
  readonly code: ConfigErrorCode;
  readonly message: string;
  readonly details: {
    readonly file: string;
    readonly exitCode: number;
    readonly issues: readonly ConfigIssue[];
    /** Where a TOML syntax error sits (1-based), for editors and the CLI. */
    readonly line?: number;
    readonly column?: number;
    /** The offending lines with a caret, as the TOML parser shows them. */
    readonly excerpt?: string;
  };
}

export interface ConfigErrorPosition {
  readonly line: number;
  readonly column: number;
  readonly excerpt?: string;
}

function render(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) =>
    key in values ? String(values[key]) : `{${key}}`,
  );
}

// Issues with no path (the file as a whole) still get a word there, so every line splits
// into FILE, PATH and REASON the same way.
const WHOLE_DOCUMENT = '(document)';

export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly file: string;
  readonly issues: readonly ConfigIssue[];
  readonly exitCode: number;
  readonly position: ConfigErrorPosition | null;

  constructor(
    code: ConfigErrorCode,
    file: string,
    issues: readonly ConfigIssue[],
    position: ConfigErrorPosition | null = null,
  ) {
    const entry = CONFIG_ERRORS[code];
    const lines = issues.map((issue) =>
      render(entry.message, {
        file,
        path: issue.path === '' ? WHOLE_DOCUMENT : issue.path,
        reason: issue.message,
        line: position?.line ?? 0,
        column: position?.column ?? 0,
      }),
    );
    super(lines.join('\n'));
    this.name = 'ConfigError';
    this.code = code;
    this.file = file;
    this.issues = Object.freeze(issues.map((issue) => Object.freeze({ ...issue })));
    this.exitCode = entry.exitCode;
    this.position = position;
  }

  toData(): ConfigErrorData {
    return {
      code: this.code,
      message: this.message,
      details: {
        file: this.file,
        exitCode: this.exitCode,
        issues: this.issues.map((issue) => ({ path: issue.path, message: issue.message })),
        ...(this.position === null
          ? {}
          : {
              line: this.position.line,
              column: this.position.column,
              ...(this.position.excerpt === undefined ? {} : { excerpt: this.position.excerpt }),
            }),
      },
    };
  }
}
