export const ROLES = ['admin', 'readonly'];
export function isRole(value) {
    return value === 'admin' || value === 'readonly';
}
/** The string recorded as `createdBy` and as the audit actor. */
export function actorName(principal) {
    return principal.kind === 'apikey' ? principal.keyId : principal.email;
}
/** The operator CLI acts outside any tenant; this is how it appears in records. */
export const OPERATOR_ACTOR = 'operator';
