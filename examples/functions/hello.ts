// A Ferry node function: the default export receives the task's args and returns its value.
import { hostname } from "node:os";

export default async function hello(args: {
  name?: string;
}): Promise<{ greeting: string; host: string }> {
  return { greeting: `hello, ${args?.name ?? "world"}`, host: hostname() };
}
