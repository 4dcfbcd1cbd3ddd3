import type { ErrorCode } from '../domain/errors.ts';
import { explainEmail } from '../domain/email.ts';
import { explainDisplayName } from '../domain/validation.ts';
import { DISPLAY_NAME_PATTERN, EMAIL_PATTERN, TIMESTAMP_PATTERN, TIMESTAMP_RULE } from '../domain/vocabulary.ts';

// Ajv's errors in Kupe's words: one sentence that names the field, with the domain's wording for the
// patterns the schemas share with it.

export interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  /** The value (Ajv's verbose mode). */
  data?: unknown;
}

/** The domain's own words for the patterns it shares with the schemas. */
const PATTERN_EXPLANATIONS: Record<string, (field: string, value: string) => string> = {
  [DISPLAY_NAME_PATTERN]: explainDisplayName,
  [EMAIL_PATTERN]: (field) => explainEmail(field),
  [TIMESTAMP_PATTERN]: (field) => `${field} must be ${TIMESTAMP_RULE}`,
};

/** `/displayName` in the body becomes `displayName`; `/items/0` becomes `items[0]`. */
function fieldName(part: string | undefined, error: AjvError): string {
  const path = error.instancePath.split('/').filter(Boolean).map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i ? `.${p}` : p));
  const joined = path.join('');
  if (joined) return joined;
  return part === 'body' ? 'body' : `${part ?? 'request'}`;
}

/** Turns the first Ajv error into one sentence that names the field. */
export function describeValidationError(part: string | undefined, error: AjvError): { code: ErrorCode; message: string } {
  const where = part === 'querystring' ? 'query parameter' : 'field';
  const field = fieldName(part, error);
  const p = error.params;
  switch (error.keyword) {
    case 'additionalProperties':
      return { code: 'unknown_field', message: `unknown ${where} ${JSON.stringify(p.additionalProperty)}${part === 'body' ? ' in request body' : ''}` };
    case 'required':
      return { code: 'validation_failed', message: `missing required ${where} ${JSON.stringify(p.missingProperty)}` };
    case 'type':
      return field === 'body'
        ? { code: 'validation_failed', message: `request body must be a JSON ${String(p.type)}` }
        : { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} must be of type ${String(p.type)}` };
    case 'enum':
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} must be one of ${(p.allowedValues as unknown[]).join(', ')}` };
    case 'const':
    case 'anyOf':
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} has an invalid value` };
    case 'minLength':
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} must not be empty` };
    case 'pattern': {
      const explain = PATTERN_EXPLANATIONS[String(p.pattern)];
      if (explain) return { code: 'validation_failed', message: explain(field, String(error.data)) };
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} has an invalid value` };
    }
    case 'maxLength':
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} must be at most ${String(p.limit)} characters` };
    default:
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} ${error.message ?? 'is invalid'}` };
  }
}
