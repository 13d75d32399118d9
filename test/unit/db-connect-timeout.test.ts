import { createServer, type Socket } from "node:net";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/connect.ts";

describe("createDb", () => {
  it("gives up on a Postgres that accepts the connection but never answers", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    const db = createDb(`postgres://postgres@127.0.0.1:${port}/none`, { connectionTimeoutMs: 300 });
    const started = Date.now();
    try {
      await expect(sql`select 1`.execute(db)).rejects.toThrow(/timeout/i);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await db.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
