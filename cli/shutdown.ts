// Long-running commands (controller, agent, up) stop cleanly on SIGINT or
// SIGTERM; a second signal while stopping exits at once.

export function waitForShutdown(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`${sig} again: exiting without a clean stop\n`);
        process.exit(130);
      }
      stopping = true;
      resolve(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
