import { resumePendingModelImports, type EngineResources } from "@sailfin/engine";

/**
 * Work resumed at every start: imports whose process died half-way are picked up again from
 * their rows (each family appends its resume function here).
 */
export const STARTUP_TASKS: ReadonlyArray<(res: EngineResources) => Promise<void>> = [resumePendingModelImports];
