import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  /** Envelope sender and recipients, as the SMTP client gave them. */
  from: string;
  to: string[];
  /** Decoded headers (lower-case names), subject and bodies. */
  headers: Map<string, string>;
  subject: string;
  messageId: string;
  text: string;
  html: string;
  raw: string;
}

export interface SmtpSink {
  /** smtp://127.0.0.1:{port}, for SMTP_URL. */
  url: string;
  /** Every message the sink accepted, in order. */
  messages: ReceivedMail[];
  /** Refuses the next `count` messages with a temporary error (451), as a struggling server would. */
  failNext(count: number): void;
  /** Answers the next message only after `ms` (a slow server); `stalled` counts messages being held. */
  stallNext(ms: number): void;
  readonly stalled: number;
  close(): Promise<void>;
}

/** A real SMTP server in the test process, without TLS or authentication. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  let failures = 0;
  let stallMs = 0;
  let stalled = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    closeTimeout: 100,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", async () => {
        if (stallMs > 0) {
          const wait = stallMs;
          stallMs = 0;
          stalled++;
          await new Promise((resolve) => setTimeout(resolve, wait));
          stalled--;
        }
        if (failures > 0) {
          failures--;
          return callback(Object.assign(new Error("mailbox temporarily unavailable"), { responseCode: 451 }));
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        const from = session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address;
        messages.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw, ...parseMessage(raw) });
        callback();
      });
    },
  });
  const listener = await new Promise<ReturnType<SMTPServer["listen"]>>((resolve) => {
    const net = server.listen(0, "127.0.0.1", () => resolve(net));
  });
  return {
    url: `smtp://127.0.0.1:${(listener.address() as AddressInfo).port}`,
    messages,
    failNext(count) {
      failures = count;
    },
    stallNext(ms) {
      stallMs = ms;
    },
    get stalled() {
      return stalled;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// Just enough MIME to read what nodemailer writes: folded headers, RFC 2047
// encoded words, nested multipart, base64 and quoted-printable bodies in UTF-8.

function parseMessage(raw: string): Omit<ReceivedMail, "from" | "to" | "raw"> {
  const { headers, body } = splitEntity(raw);
  const leaves = readLeaves(headers, body);
  return {
    headers,
    subject: headers.get("subject") ?? "",
    messageId: headers.get("message-id") ?? "",
    text: leaves.get("text/plain") ?? "",
    html: leaves.get("text/html") ?? "",
  };
}

function splitEntity(entity: string): { headers: Map<string, string>; body: string } {
  const end = entity.search(/\r?\n\r?\n/);
  const head = end === -1 ? entity : entity.slice(0, end);
  const body = end === -1 ? "" : entity.slice(end).replace(/^\r?\n\r?\n/, "");
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

/** Decoded bodies by content type; the first of each type wins. */
function readLeaves(headers: Map<string, string>, body: string, found = new Map<string, string>()): Map<string, string> {
  const contentType = headers.get("content-type") ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (contentType.toLowerCase().startsWith("multipart/") && boundary !== undefined) {
    const parts = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:--)?\\r?\\n?`)).slice(1, -1);
    for (const part of parts) {
      const entity = splitEntity(part);
      readLeaves(entity.headers, entity.body, found);
    }
    return found;
  }
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (!found.has(type)) found.set(type, decodeBody(body, headers.get("content-transfer-encoding") ?? "7bit"));
  return found;
}

function decodeBody(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
    case "quoted-printable":
      return quotedPrintable(body.replace(/=\r?\n/g, ""), false).toString("utf8");
    default:
      return body;
  }
}

function quotedPrintable(text: string, underscoreIsSpace: boolean): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text[i] === "=" ? text.slice(i + 1, i + 3) : "";
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (underscoreIsSpace && text[i] === "_") {
      bytes.push(0x20);
    } else {
      bytes.push(...Buffer.from(text[i]!, "utf8"));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047: adjacent encoded words join without their whitespace, and their bytes decode together. */
function decodeWords(value: string): string {
  return value.replace(/(?:=\?[^?]+\?[BbQq]\?[^?]*\?=\s*)+/g, (run) => {
    const bytes = [...run.matchAll(/=\?[^?]+\?([BbQq])\?([^?]*)\?=/g)].map(([, encoding, text]) =>
      encoding!.toUpperCase() === "B" ? Buffer.from(text!, "base64") : quotedPrintable(text!, true),
    );
    const trailing = /\s*$/.exec(run)![0];
    return Buffer.concat(bytes).toString("utf8") + trailing;
  });
}
