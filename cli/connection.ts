import { type Connection, connect } from "#core/connect.ts";

/** Run one command's work with a connection to the deployment, closed however it ends. */
export async function withConnection<T>(work: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await connect();
  try {
    return await work(conn);
  } finally {
    conn.close();
  }
}
