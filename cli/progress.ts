// Progress for long operations, on stderr and only when it is a terminal:
// piped or captured output stays clean.

export interface Progress {
  step(message: string): void;
  done(): void;
}

export function progress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { step: () => undefined, done: () => undefined };
  let shown = false;
  return {
    step(message) {
      stream.write(`\r\x1b[2K${message}...`);
      shown = true;
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}
