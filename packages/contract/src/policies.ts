/**
 * Qianfan's IAM system policies (reference §3.6) and the actions each grants. Every route
 * declares one action; a key is allowed when any of its policies grants it.
 */
export const ACTIONS = [
  "tuning:read", "tuning:write",
  "model:read", "model:write",
  "dataset:read", "dataset:write", "dataset:delete",
  "eval:read", "eval:write",
  "comp:read", "comp:write",
  "storage:read", "storage:write",
  "iam:manage",
  // Inference (issue 15): services and batch inference (read, write), calling a service (invoke).
  "service:read", "service:write", "service:invoke",
  // Sailfin's webhooks (an extension): a key manages its own registrations.
  "webhook:read", "webhook:write",
] as const;
export type Action = (typeof ACTIONS)[number];

export function isMutatingAction(action: Action): boolean {
  return !action.endsWith(":read");
}

// webhook:read only lists a key's own registrations: harmless wherever task state is readable.
const TUNING_READ: Action[] = ["tuning:read", "model:read", "eval:read", "comp:read", "webhook:read"];
const ALL_READ: Action[] = [...TUNING_READ, "dataset:read", "storage:read", "service:read"];

export const POLICIES = {
  QianfanFullControlAccessPolicy: [...ACTIONS],
  QianfanReadAccessPolicy: ALL_READ,
  // Tuning needs to read the datasets it trains on.
  QianfanModelTuningFullControlAccessPolicy: [
    ...TUNING_READ, "tuning:write", "model:write", "eval:write", "comp:write", "dataset:read",
    "storage:read", "storage:write", "webhook:write",
  ],
  QianfanModelTuningReadAccessPolicy: TUNING_READ,
  QianfanDataFullControlAccessPolicy: ["dataset:read", "dataset:write", "dataset:delete", "storage:read", "storage:write"],
  QianfanDataOperateAccessPolicy: ["dataset:read", "dataset:write", "storage:read", "storage:write"],
  QianfanDataReadAccessPolicy: ["dataset:read", "storage:read"],
  // Annotation is not part of Sailfin yet: the names are accepted so keys can carry them, and
  // they grant only reads of the data they would annotate.
  QianfanDatasetAnnotationFullControlAccessPolicy: ["dataset:read"],
  QianfanDatasetAnnotationOperateAccessPolicy: ["dataset:read"],
  // Services (reference §14.6): reading one includes calling it, as Qianfan's service pages let a
  // reader try it; batch inference reads the datasets and model versions it runs over.
  QianfanServiceReadAccessPolicy: ["service:read", "service:invoke"],
  QianfanServiceOperateAccessPolicy: ["service:read", "service:write", "service:invoke", "model:read", "dataset:read"],
} as const satisfies Record<string, readonly Action[]>;

export type PolicyName = keyof typeof POLICIES;
export const POLICY_NAMES = Object.keys(POLICIES) as PolicyName[];

export function isPolicyName(value: string): value is PolicyName {
  return Object.hasOwn(POLICIES, value);
}

export function policiesAllow(policies: readonly PolicyName[], action: Action): boolean {
  return policies.some((name) => (POLICIES[name] as readonly Action[]).includes(action));
}

/** The policies that grant no mutating action: the table-driven IAM test iterates over these. */
export const READ_ONLY_POLICIES = POLICY_NAMES.filter((name) =>
  (POLICIES[name] as readonly Action[]).every((action) => !isMutatingAction(action)),
);
