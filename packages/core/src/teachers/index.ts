// Public API of this module, re-exported by src/index.ts.
export { JsonlAppender, readJsonLinesTolerant, type JsonlReadResult } from './jsonl-log';
export { ResponseCache, cacheKey, type CacheKeyParts } from './response-cache';
export { ConcurrencyLimiter } from './concurrency';
export {
  HttpRequestError,
  backoffDelayMs,
  parseRetryAfterMs,
  postJsonWithRetries,
  type RequestExtras,
  type RetryNotice,
  type RetryPolicy,
} from './http-retry';
export {
  OpenAICompatibleTeacher,
  TeacherRequestFailures,
  DEFAULT_RETRY_POLICY,
  type ChatMessage,
  type OpenAICompatibleTeacherOptions,
  type PromptWithStop,
  type TeacherFailure,
  type TeacherPrompt,
} from './openai-teacher';
export { RecordedTeacher } from './recorded-teacher';
export {
  importGsm8kRationalesAsCot,
  importGsm8kSocraticAsL2m,
  normalizeQuestionText,
  rationaleToCot,
  socraticToL2m,
  stripCalculatorAnnotations,
  type ImportReport,
  type ImportResult,
} from './gsm8k-importers';
