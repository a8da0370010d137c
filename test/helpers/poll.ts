// Polling lives in @sluice/test-kit; this re-export stays only while api-client.ts imports it
// from here (its rewrite against the API contract is another branch).
export { type PollOptions, pollUntil, withTimeout } from '@sluice/test-kit';
