// /proc/PID/cmdline: the arguments, each terminated by a NUL. It is how a
// restarted agent tells its own program from whatever reused the pid.

/** The argument list of a /proc/PID/cmdline read (empty for kernel threads and zombies). */
export function parseCmdline(raw: Buffer | string): string[] {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text === '') return [];
  const args = text.split('\0');
  // The last argument's terminator leaves one empty string at the end; an
  // empty argument in the middle is real and kept.
  if (args[args.length - 1] === '') args.pop();
  return args;
}

/** Whether a process's command line is exactly `argv` (programs that rewrite their title do not match). */
export function cmdlineMatches(cmdline: readonly string[], argv: readonly string[]): boolean {
  return cmdline.length === argv.length && cmdline.every((arg, i) => arg === argv[i]);
}
