import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * A driver process spoken to in JSON lines, one request line answered by one result line, in
 * order (the official-SDK drivers: tests/go, tests/python/sdk_driver.py). A request never
 * rejects: a line that is not JSON, or the process exiting, is answered with `failure(...)`,
 * whose message carries the tail of the process's stderr.
 */
export class JsonLinesChild<Result> {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting: Array<(result: Result) => void> = [];
  readonly #failure: (type: "DriverOutput" | "DriverExit", message: string) => Result;
  #stderr = "";
  #exited: string | null = null;

  constructor(options: {
    readonly command: string;
    readonly args?: readonly string[];
    readonly env: NodeJS.ProcessEnv;
    /** Names the process in the exit message ("the Go driver", "sdk_driver.py"). */
    readonly name: string;
    readonly failure: (type: "DriverOutput" | "DriverExit", message: string) => Result;
  }) {
    this.#failure = options.failure;
    this.#child = spawn(options.command, [...(options.args ?? [])], { env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    this.#child.stderr.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    createInterface({ input: this.#child.stdout }).on("line", (line) => {
      const resolve = this.#waiting.shift();
      if (resolve === undefined) return;
      let result: Result;
      try {
        result = JSON.parse(line) as Result;
      } catch {
        result = this.#failure("DriverOutput", `not JSON: ${line}`);
      }
      resolve(result);
    });
    this.#child.on("exit", (code, signal) => {
      this.#exited = `${options.name} exited (code ${code}, signal ${signal}); stderr:\n${this.#stderr}`;
      for (const resolve of this.#waiting.splice(0)) resolve(this.#failure("DriverExit", this.#exited));
    });
  }

  /** Sends one request line; resolves with its result line. */
  request(message: unknown): Promise<Result> {
    if (this.#exited !== null) return Promise.resolve(this.#failure("DriverExit", this.#exited));
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#child.stdin.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** The tail of the process's stderr, for failure messages. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Ends stdin and waits for the process to exit. */
  async close(): Promise<void> {
    if (this.#exited !== null) return;
    const done = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    this.#child.stdin.end();
    await done;
  }
}
