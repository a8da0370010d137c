// The one log signature of the data plane: the supervisor's (pino, from the app) and a shard's
// (sent to the supervisor over its port) alike. `debug` is for what happens once per rule in a
// batch of thousands (a replay): pino drops it unless SLUICE_LOG_LEVEL asks for it.

export type LogFn = (
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;
