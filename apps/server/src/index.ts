export * from "./app.js";
export * from "./config.js";
export * from "./main.js";
export * from "./render.js";
export * from "./routes/route.js";
export { ROUTES } from "./routes/index.js";
