import { AppError } from './errors.ts';
import { type Plan, PLANS } from './vocabulary.ts';

/**
 * The plan catalogue (docs/behaviour.md, "Plans"): what each plan a tenant can be on offers, as the real
 * clients read it (`kupe plan list|get`, Terraform's `kupe_plan` data source): a display name, and the fee,
 * pools and limits the operator describes in KUPE_PLANS_FILE. The names are Kupe's plans (PLANS); a plan the
 * file does not describe is listed with its display name only. Kupe enforces none of these figures: they
 * describe what the platform's other services grant.
 */
export interface PlanEntry {
  name: Plan;
  displayName: string;
  /** Free text, e.g. "€49/month". */
  platformFee?: string;
  resourcePool?: { cpu?: string; memory?: string; storage?: string };
  observabilityPool?: { maxActiveSeries?: number; logIngestGB?: number; retentionDays?: number; maxReceivers?: number };
  maxClusters?: number;
}

export type PlanCatalogue = readonly PlanEntry[];

const titleCase = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** Every plan with its display name only: the catalogue without a file. */
export const DEFAULT_CATALOGUE: PlanCatalogue = PLANS.map((name) => ({ name, displayName: titleCase(name) }));

const ENTRY_FIELDS = ['name', 'displayName', 'platformFee', 'resourcePool', 'observabilityPool', 'maxClusters'];
const RESOURCE_FIELDS = ['cpu', 'memory', 'storage'];
const OBSERVABILITY_FIELDS = ['maxActiveSeries', 'logIngestGB', 'retentionDays', 'maxReceivers'];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The fields of `value` under `where`: unknown ones and wrongly typed ones named in `problems`. */
function fields(value: unknown, where: string, known: string[], kind: 'string' | 'count', problems: string[]): Record<string, string | number> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    problems.push(`${where}: must be an object`);
    return undefined;
  }
  const out: Record<string, string | number> = {};
  for (const [field, v] of Object.entries(value)) {
    if (!known.includes(field)) problems.push(`${where}.${field}: unknown field (known: ${known.join(', ')})`);
    else if (kind === 'string' ? typeof v !== 'string' || v === '' : !Number.isSafeInteger(v) || (v as number) < 0) {
      problems.push(`${where}.${field}: must be ${kind === 'string' ? 'a non-empty string, e.g. "8"' : 'a whole number, 0 or more'}`);
    } else out[field] = v as string | number;
  }
  return out;
}

/**
 * The catalogue a file describes: `{"plans": [{"name": "pro", "displayName": "Pro", ...}, ...]}`. Every problem
 * is named (the server refuses to start on any); plans the file leaves out keep their default entry.
 */
export function parsePlanCatalogue(source: unknown): { catalogue?: PlanCatalogue; problems: string[] } {
  const problems: string[] = [];
  const entries = isObject(source) ? source.plans : undefined;
  if (!Array.isArray(entries)) return { problems: ['must be a JSON object with a "plans" array'] };
  const described = new Map<Plan, PlanEntry>();
  entries.forEach((raw, i) => {
    const where = `plans[${i}]`;
    if (!isObject(raw)) {
      problems.push(`${where}: must be an object`);
      return;
    }
    for (const field of Object.keys(raw)) if (!ENTRY_FIELDS.includes(field)) problems.push(`${where}.${field}: unknown field (known: ${ENTRY_FIELDS.join(', ')})`);
    const name = raw.name;
    if (typeof name !== 'string' || !(PLANS as readonly string[]).includes(name)) {
      problems.push(`${where}.name: must be one of ${PLANS.join(', ')}`);
      return;
    }
    if (described.has(name as Plan)) problems.push(`${where}.name: ${name} is described twice`);
    if (raw.displayName !== undefined && (typeof raw.displayName !== 'string' || raw.displayName.trim() === '' || raw.displayName.length > 100)) {
      problems.push(`${where}.displayName: must be text of 1 to 100 characters`);
    }
    if (raw.platformFee !== undefined && (typeof raw.platformFee !== 'string' || raw.platformFee.length > 100)) {
      problems.push(`${where}.platformFee: must be text of at most 100 characters, e.g. "€49/month"`);
    }
    if (raw.maxClusters !== undefined && (!Number.isSafeInteger(raw.maxClusters) || (raw.maxClusters as number) < 0)) {
      problems.push(`${where}.maxClusters: must be a whole number, 0 or more`);
    }
    const resourcePool = fields(raw.resourcePool, `${where}.resourcePool`, RESOURCE_FIELDS, 'string', problems);
    const observabilityPool = fields(raw.observabilityPool, `${where}.observabilityPool`, OBSERVABILITY_FIELDS, 'count', problems);
    described.set(name as Plan, {
      name: name as Plan,
      displayName: typeof raw.displayName === 'string' ? raw.displayName : titleCase(name),
      ...(typeof raw.platformFee === 'string' && { platformFee: raw.platformFee }),
      ...(resourcePool && { resourcePool }),
      ...(observabilityPool && { observabilityPool }),
      ...(typeof raw.maxClusters === 'number' && { maxClusters: raw.maxClusters }),
    });
  });
  if (problems.length > 0) return { problems };
  return { catalogue: DEFAULT_CATALOGUE.map((entry) => described.get(entry.name) ?? entry), problems };
}

/** One plan of the catalogue, by name (404 `plan_not_found` naming the plans there are). */
export function findPlan(catalogue: PlanCatalogue, name: string): PlanEntry {
  const entry = catalogue.find((p) => p.name === name);
  if (!entry) throw new AppError('plan_not_found', `no plan ${JSON.stringify(name)}: the plans are ${catalogue.map((p) => p.name).join(', ')}`);
  return entry;
}
