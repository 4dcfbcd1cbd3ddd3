import { Ajv } from 'ajv';
/**
 * Bodies are validated strictly: no type coercion, no silently dropped
 * fields (an unknown field is a 400 that names it). Query strings and path
 * parameters arrive as text, so those may be coerced (`limit=10` -> 10).
 */
// verbose: an error carries the value, so a broken pattern can be explained in the domain's words.
const strict = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, strict: false, verbose: true });
const lenient = new Ajv({ coerceTypes: true, removeAdditional: false, useDefaults: true, allErrors: false, strict: false, verbose: true });
/** Where in `data` a string holds a NUL character (PostgreSQL cannot store one), as an Ajv instance path. */
function nulAt(data, path) {
    if (typeof data === 'string')
        return data.includes('\u0000') ? path : undefined;
    if (typeof data !== 'object' || data === null)
        return undefined;
    for (const [key, value] of Object.entries(data)) {
        const found = nulAt(value, `${path}/${key}`);
        if (found !== undefined)
            return found;
    }
    return undefined;
}
/** Every validated request part also refuses NUL characters, on every database alike. */
export const compileValidator = ({ schema, httpPart }) => {
    const validate = (httpPart === 'body' ? strict : lenient).compile(schema);
    const checked = ((data, context) => {
        const at = nulAt(data, '');
        if (at !== undefined) {
            checked.errors = [{ keyword: 'nul', instancePath: at, schemaPath: '', params: {}, message: 'must not contain NUL characters' }];
            return false;
        }
        const valid = validate(data, context);
        checked.errors = validate.errors;
        return valid;
    });
    checked.schemaEnv = validate.schemaEnv;
    return checked;
};
