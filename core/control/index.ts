export { ControlClient, type ControlClientOptions } from "./client.ts";
