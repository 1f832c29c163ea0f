/**
 * Server-sent events as the inference routes send them (reference §15.3): `data: <json>` lines,
 * events separated by blank lines, `: keep-alive` comments, `data: [DONE]` at the end. Yields
 * each event's data (multi-line data joined by "\n"), stops at `[DONE]`. Browser-safe: reads a
 * web ReadableStream with TextDecoder.
 */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r?\n/)) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer[end] === "\r" ? 2 : 1));
        if (line === "") {
          if (data.length > 0) {
            const event = data.join("\n");
            data = [];
            if (event === "[DONE]") return;
            yield event;
          }
        } else if (line.startsWith("data:")) {
          data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
        }
        // Comments (`: keep-alive`) and other fields (`event:`, `id:`) carry nothing we read.
      }
      if (done) {
        // A stream cut without a blank line after its last event still delivers that event.
        if (buffer.startsWith("data:")) data.push(buffer.slice(buffer.startsWith("data: ") ? 6 : 5));
        const event = data.join("\n");
        if (data.length > 0 && event !== "[DONE]") yield event;
        return;
      }
    }
  } finally {
    // Leaving early (a break, an error, [DONE]) cancels the body: the server stops generating.
    await reader.cancel().catch(() => {});
  }
}
