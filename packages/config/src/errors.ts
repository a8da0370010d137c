// The config area's error table: one stable code per way a config can be refused, with the
// line template an operator reads and the process exit code. configError() raises them, so the
// CLI, the logs and the control plane all say the same thing for the same code.

import { defineErrors, type SluiceError, type SluiceErrorData } from '@sluice/errors';

export const CONFIG_ERRORS = defineErrors('config', {
  config_unreadable: { message: '{file}: cannot read the config file: {reason}', exitCode: 2 },
  config_syntax: { message: '{file}:{line}:{column}: not valid TOML: {reason}', exitCode: 2 },
  config_invalid: { message: '{file}: {path}: {reason}', exitCode: 2 },
});

export type ConfigErrorCode = (typeof CONFIG_ERRORS.codes)[number];

/** One problem in a config, at a TOML-style key path such as `rules[1].listen`. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

export interface ConfigErrorPosition {
  readonly line: number;
  readonly column: number;
  readonly excerpt?: string;
}

// A type alias rather than an interface, so it is assignable to the table's ErrorDetails.
export type ConfigErrorDetails = {
  readonly file: string;
  readonly exitCode: number;
  readonly issues: readonly ConfigIssue[];
  /** Where a TOML syntax error sits (1-based), for editors and the CLI. */
  readonly line?: number;
  readonly column?: number;
  /** The offending lines with a caret, as the TOML parser shows them. */
  readonly excerpt?: string;
};

/** A refused config: CONFIG_ERRORS.is(err) tells it apart; `toData()` crosses threads. */
export type ConfigError = SluiceError<ConfigErrorCode> & { readonly details: ConfigErrorDetails };

/** The form a ConfigError takes when it crosses a thread or process boundary. */
export type ConfigErrorData = SluiceErrorData<ConfigErrorCode> & { readonly details: ConfigErrorDetails };

// Issues with no path (the file as a whole) still get a word there, so every line splits
// into FILE, PATH and REASON the same way.
const WHOLE_DOCUMENT = '(document)';

/** The error for `issues` in `file`: its message is one line per issue. */
export function configError(
  code: ConfigErrorCode,
  file: string,
  issues: readonly ConfigIssue[],
  position: ConfigErrorPosition | null = null,
): ConfigError {
  const lines = issues.map((issue) =>
    CONFIG_ERRORS.message(code, {
      file,
      path: issue.path === '' ? WHOLE_DOCUMENT : issue.path,
      reason: issue.message,
      line: position?.line ?? 0,
      column: position?.column ?? 0,
    }),
  );
  const details: ConfigErrorDetails = {
    file,
    exitCode: CONFIG_ERRORS.table[code].exitCode,
    issues: Object.freeze(issues.map((issue) => Object.freeze({ path: issue.path, message: issue.message }))),
    ...(position === null
      ? {}
      : {
          line: position.line,
          column: position.column,
          ...(position.excerpt === undefined ? {} : { excerpt: position.excerpt }),
        }),
  };
  return CONFIG_ERRORS.error(code, details, { message: lines.join('\n') }) as ConfigError;
}
