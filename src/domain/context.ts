import type { NoticeContext } from './mail.ts';

/**
 * Who did something, from where, and when: what every write records in the audit log; and whether email is
 * on, for the changes that tell people (src/domain/mail.ts).
 */
export interface ActionContext extends NoticeContext {
  actor: string;
  clientIp?: string | undefined;
  requestId?: string | undefined;
}
