// Public API of the strategies module: the three strategies' text formats, the student's text
// format, the teacher's few-shot prompts and answer extraction. Re-exported by src/index.ts.
export {
  DEFAULT_ANSWER_RULES,
  extractFinalAnswer,
  lastNumberToken,
  type AnswerExtraction,
  type AnswerExtractionOptions,
  type AnswerRule,
} from './answer';
export {
  FINAL_ANSWER_PREFIX,
  extractProgram,
  formatCotSolution,
  formatL2mSolution,
  l2mViolation,
  parseL2mSolution,
  programAnswerViolation,
  type L2mStep,
  type ParsedL2m,
} from './solution-text';
export {
  StudentFormat,
  defaultStudentFormat,
  loadStudentFormat,
  studentTemplatePath,
  withChatTemplate,
  type ParsedCompletion,
  type StudentFormatVariant,
  type StudentTemplate,
} from './student-format';
export {
  buildTeacherPrompt,
  defaultFewShot,
  fewShotFromObject,
  fewShotTemplatePath,
  loadFewShot,
  type ChatTeacherPrompt,
  type TeacherChatMessage,
  type CompletionTeacherPrompt,
  type FewShotExemplar,
  type FewShotSet,
  type TeacherPromptOptions,
} from './few-shot';
export { TEMPLATES_DIR, TemplateError } from './templates';
