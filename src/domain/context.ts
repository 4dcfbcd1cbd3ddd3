/** Who did something, from where, and when: what every write records in the audit log. */
export interface ActionContext {
  actor: string;
  now: Date;
  clientIp?: string | undefined;
  requestId?: string | undefined;
}
