export { main } from "./main.js";
export { Client, ApiError, clientConfigFromEnv } from "./client.js";
