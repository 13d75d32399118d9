import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeepAliveFetch } from "../../src/oen/keep-alive-fetch.ts";

// The Oen transport's sender fails the way fetch does, which is what sendOenRequest classifies.
describe("createKeepAliveFetch", () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  const send = createKeepAliveFetch();
  const post = (path: string, ms = 2_000) => send(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"amount":100}', signal: AbortSignal.timeout(ms) });

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        seen.push(request.url!);
        if (request.url === "/echo") response.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ method: request.method, body }));
        else if (request.url === "/html") response.writeHead(502, { "content-type": "text/html" }).end("<html>bad gateway</html>");
        else if (request.url === "/moved") response.writeHead(302, { location: "/echo" }).end();
        else if (request.url === "/stall") response.writeHead(200).write('{"partial":');
        else if (request.url === "/drop") request.socket.destroy();
        else if (request.url === "/cut") {
          response.writeHead(200, { "content-length": "100" }).write("{");
          setTimeout(() => request.socket.destroy(), 20);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("sends the method and body, and gives the status and text of any answer", async () => {
    const echo = await post("/echo");
    expect(echo.status).toBe(201);
    expect(JSON.parse(await echo.text())).toEqual({ method: "POST", body: '{"amount":100}' });
    const html = await post("/html");
    expect([html.status, await html.text()]).toEqual([502, "<html>bad gateway</html>"]);
  });

  it("never follows a redirect", async () => {
    seen.length = 0;
    expect((await post("/moved")).status).toBe(302);
    expect(seen).toEqual(["/moved"]);
  });

  it("rejects with the signal's TimeoutError when the body stalls after the headers", async () => {
    await expect(post("/stall", 300)).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("rejects with a TypeError carrying the system code when the connection drops, or is cut mid-body, or is refused", async () => {
    seen.length = 0;
    await expect(post("/drop")).rejects.toMatchObject({ name: "TypeError", cause: { code: "ECONNRESET" } });
    // A charge Oen may have received is never sent again by the transport.
    expect(seen).toEqual(["/drop"]);
    await expect(post("/cut")).rejects.toMatchObject({ name: "TypeError", cause: { code: "ECONNRESET" } });
    await expect(send("http://127.0.0.1:1/x", { method: "GET", headers: {}, signal: AbortSignal.timeout(2_000) })).rejects.toMatchObject({ name: "TypeError", cause: { code: "ECONNREFUSED" } });
  });
});
