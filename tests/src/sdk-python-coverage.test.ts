import { registerCoverageTests } from "./sdk-coverage.js";
import { PYTHON_SDK_ROUTES } from "./sdk-python-coverage.js";

/**
 * Every route of both dialects (Sailfin's `extension` actions aside) is called through the
 * official Python SDK by some test file. The lists are static (sdk-python-coverage.ts), so this
 * holds whatever order the files run in; each file proves its own list at its end.
 */
registerCoverageTests({ lists: PYTHON_SDK_ROUTES, through: "through the official Python SDK", caller: "Python SDK", driver: "py" });
