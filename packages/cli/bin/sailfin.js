#!/usr/bin/env node
import { main } from "../dist/main.js";

// `sailfin … | head` closes stdout early: that is not an error worth a trace.
process.stdout.on("error", (err) => { if (err.code === "EPIPE") process.exit(0); throw err; });

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`sailfin: ${err?.message ?? err}\n`); process.exitCode = 1; },
);
