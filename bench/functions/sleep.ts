// Sleeps args.ms milliseconds: the scale-out benchmark's fixed-length task.
export default async (args: { ms: number }) => {
  await new Promise((resolve) => setTimeout(resolve, args.ms));
  return null;
};
