// Writes about `mb` MiB to stdout, then returns: the agent keeps only a bounded tail.
export default async (args: { mb: number }) => {
  const line = `${"x".repeat(1023)}\n`;
  const chunk = line.repeat(1024);
  for (let i = 0; i < args.mb; i++) {
    if (!process.stdout.write(chunk)) {
      await new Promise((resolve) => process.stdout.once("drain", resolve));
    }
  }
  return { wroteMiB: args.mb };
};
