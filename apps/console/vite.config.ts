import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

/**
 * The console is served by the Sailfin server under /console/ (apps/console/dist, or
 * SAILFIN_CONSOLE_DIR) with `Content-Security-Policy: default-src 'self'`: so no inline scripts
 * or styles in index.html, no data: URIs for assets (assetsInlineLimit 0), and content-hashed
 * file names under assets/ so they can be cached for good while index.html is not.
 */
export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    assetsInlineLimit: 0,
    target: "es2022",
    // The module preload polyfill is a script Vite would inject; every supported browser has modulepreload.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev -w @sailfin/console` against a server on 8866: the API and events go there.
    proxy: { "/v2": "http://127.0.0.1:8866", "/sailfin": "http://127.0.0.1:8866", "/wenxinworkshop": "http://127.0.0.1:8866" },
  },
});
