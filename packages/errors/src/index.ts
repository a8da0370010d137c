export {
  type AreaErrors,
  defineErrors,
  type ErrorDetails,
  type ErrorRow,
  type ErrorTable,
  renderTemplate,
  SluiceError,
  type SluiceErrorData,
} from './define-errors.ts';
export { type DocumentedArea, errorsMarkdown } from './errors-markdown.ts';
export { escapeControl } from './escape-control.ts';
