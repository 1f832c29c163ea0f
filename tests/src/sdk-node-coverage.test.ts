import { registerCoverageTests } from "./sdk-coverage.js";
import { NODE_SDK_ROUTES } from "./sdk-node-coverage.js";

/**
 * Every route of both dialects (Sailfin's `extension` actions aside) is called through the
 * official Node SDK's `consoleAction` by some test file. The lists are static
 * (sdk-node-coverage.ts), so this holds whatever order the files run in; each file proves its
 * own list at its end.
 */
registerCoverageTests({ lists: NODE_SDK_ROUTES, through: "through the official Node SDK's consoleAction", caller: "consoleAction", driver: "sdk" });
