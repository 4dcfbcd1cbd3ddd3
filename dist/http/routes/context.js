import { actorName } from "../../domain/roles.js";
import { principalOf } from "../guard.js";
export function actionContext(request, deps) {
    return { actor: actorName(principalOf(request)), now: deps.clock(), clientIp: request.ip, requestId: request.id };
}
export function ifMatchOf(request) {
    const value = request.headers['if-match'];
    return typeof value === 'string' ? value : undefined;
}
