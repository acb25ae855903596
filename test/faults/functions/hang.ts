// Never returns: the agent must stop it at its walltime and report Timeout.
export default () => new Promise(() => setInterval(() => undefined, 1_000));
