import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
/**
 * The console may load only its own scripts, styles and images and talk only
 * to its own origin; nobody may frame it; forms post nowhere else.
 */
export const CONSOLE_CSP = [
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "manifest-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');
/**
 * Serves the built console (console/dist) under `/`. The console routes in
 * the URL fragment (#/keys), so only the built files themselves are served.
 * Returns false when the console has not been built.
 */
export async function registerConsole(app, dir) {
    if (!existsSync(join(dir, 'index.html')))
        return false;
    await app.register(fastifyStatic, {
        root: dir,
        prefix: '/',
        wildcard: false,
        decorateReply: false,
        index: ['index.html'],
        setHeaders: (res) => {
            void res.header('content-security-policy', CONSOLE_CSP);
            void res.header('x-content-type-options', 'nosniff');
            void res.header('referrer-policy', 'no-referrer');
            void res.header('x-frame-options', 'DENY');
        },
    });
    return true;
}
