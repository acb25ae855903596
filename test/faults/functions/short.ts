// A short task: sleeps a few milliseconds and echoes its index, so results can be matched.
export default async (args: { i: number; ms?: number }) => {
  await new Promise((resolve) => setTimeout(resolve, args.ms ?? 5));
  return { i: args.i, pid: process.pid };
};
