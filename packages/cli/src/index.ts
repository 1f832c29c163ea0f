export { main } from "./main.js";
export { Client, ApiError, UnreachableError, clientConfigFromEnv } from "./client.js";
