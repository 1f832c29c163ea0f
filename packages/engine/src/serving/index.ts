/** Inference services (issue 15): the services domain, what serves a model name, engine health. */
export { type ServiceRecord, describeService } from "./records.js";
export { createService } from "./create-service.js";
export { listServices, stopService, startService, modifyService, deleteService, servicesOfVersions } from "./manage-services.js";
export { findServingTarget, type ServingTarget } from "./find-serving.js";
export { probeEngine } from "./engine-health.js";
