// Kills its own worker process mid-task: the agent must report WorkerCrashed and keep serving.
export default () => {
  process.stderr.write("crashing on purpose\n");
  process.exit(3);
};
