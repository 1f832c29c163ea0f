export * from "./schema.js";
export * from "./db.js";
export * from "./migrate.js";
export * from "./events.js";
export * from "./queries/keyset.js";
export * from "./queries/compiled.js";
