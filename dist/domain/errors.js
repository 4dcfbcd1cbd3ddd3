export class AppError extends Error {
    code;
    constructor(code, message) {
        super(message);
        this.name = 'AppError';
        this.code = code;
    }
}
export function validationError(message) {
    return new AppError('validation_failed', message);
}
