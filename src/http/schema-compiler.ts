import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Bodies are validated strictly: no type coercion, no silently dropped
 * fields (an unknown field is a 400 that names it). Query strings and path
 * parameters arrive as text, so those may be coerced (`limit=10` -> 10).
 */
// verbose: an error carries the value, so a broken pattern can be explained in the domain's words.
const strict = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, strict: false, verbose: true });
const lenient = new Ajv({ coerceTypes: true, removeAdditional: false, useDefaults: true, allErrors: false, strict: false, verbose: true });

/** JSON bodies nested deeper than this are refused (400 `invalid_json`) before anything walks them. */
export const MAX_JSON_DEPTH = 32;

/** Whether `data` nests objects or arrays deeper than `max` levels; iterative, so any depth is safe to ask. */
export function nestedDeeperThan(data: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[data, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Where in `data` a string holds a NUL character (PostgreSQL cannot store one), as an Ajv instance path.
 * Iterative: a body nested 30,000 levels deep overflowed the stack of the recursive version (a 500).
 */
function nulAt(data: unknown, path: string): string | undefined {
  const stack: [unknown, string][] = [[data, path]];
  while (stack.length > 0) {
    const [value, at] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return at;
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value).reverse()) stack.push([child, `${at}/${key}`]);
    }
  }
  return undefined;
}

/** Every validated request part also refuses NUL characters, on every database alike. */
export const compileValidator: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? strict : lenient).compile(schema);
  const checked = ((data: unknown, context?: Parameters<ValidateFunction>[1]) => {
    const at = nulAt(data, '');
    if (at !== undefined) {
      checked.errors = [{ keyword: 'nul', instancePath: at, schemaPath: '', params: {}, message: 'must not contain NUL characters' }] as ErrorObject[];
      return false;
    }
    const valid = validate(data, context);
    checked.errors = validate.errors;
    return valid;
  }) as ValidateFunction;
  checked.schemaEnv = validate.schemaEnv;
  return checked;
};
