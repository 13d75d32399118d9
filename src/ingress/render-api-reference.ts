import { escapeHtml } from "../notify/escape-html.ts";

// The reference page at /docs, rendered from the OpenAPI document itself:
// one self-contained HTML page (no script, no CDN), so it works offline and
// never disagrees with /openapi.json.

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string; schema?: unknown }>;
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

interface OpenApiDocument {
  info?: { title?: string; version?: string; description?: string };
  servers?: Array<{ url: string }>;
  paths?: Record<string, Record<string, Operation>>;
}

const METHODS = ["get", "put", "post", "patch", "delete"];
const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem 2rem;color:#1b1f24}
h2{border-bottom:1px solid #d0d7de;margin-top:2.5rem}section{border:1px solid #d0d7de;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.method{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}.get{color:#0969da}.post{color:#1a7f37}.put{color:#9a6700}.delete{color:#cf222e}
code,pre{font:13px ui-monospace,monospace}pre{background:#f6f8fa;padding:.5rem;overflow:auto;max-height:20rem}table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left;vertical-align:top}
nav a{margin-right:1rem}.muted{color:#57606a}`;

const text = (value: string | undefined) => escapeHtml(value ?? "");
const json = (value: unknown) => `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;

function renderOperation(method: string, path: string, op: Operation): string {
  const parameters = op.parameters ?? [];
  const body = op.requestBody?.content?.["application/json"]?.schema;
  const auth = op.security !== undefined && op.security.length === 0 ? "no credential" : "bearer key";
  const responses = Object.entries(op.responses ?? {})
    .map(([status, response]) => `<tr><td><code>${text(status)}</code></td><td>${text(response.description)}</td></tr>`)
    .join("");
  return `<section id="${text(op.operationId)}">
<h3><span class="method ${method}">${method}</span> <code>${text(path)}</code></h3>
<p>${text(op.summary)}</p>${op.description ? `<p class="muted">${text(op.description)}</p>` : ""}
<p class="muted">operationId <code>${text(op.operationId)}</code> · ${auth}</p>
${parameters.length === 0 ? "" : `<h4>Parameters</h4><table>${parameters.map((p) => `<tr><td><code>${text(p.name)}</code></td><td>${text(p.in)}${p.required ? ", required" : ""}</td><td>${text(p.description)}</td></tr>`).join("")}</table>`}
${body === undefined ? "" : `<h4>Request body</h4>${json(body)}`}
<h4>Responses</h4><table>${responses}</table>
</section>`;
}

/** The whole page for an OpenAPI document, operations grouped by their first tag. */
export function renderApiReference(spec: OpenApiDocument): string {
  const groups = new Map<string, string[]>();
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const tag = op.tags?.[0] ?? "other";
      groups.set(tag, [...(groups.get(tag) ?? []), renderOperation(method, path, op)]);
    }
  }
  const title = text(spec.info?.title ?? "API");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title><style>${STYLE}</style></head>
<body><h1>${title} <span class="muted">v${text(spec.info?.version)}</span></h1>
<p>${text(spec.info?.description)}</p>
<p class="muted">Server: ${(spec.servers ?? []).map((s) => `<code>${text(s.url)}</code>`).join(", ")} · machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1)</p>
<nav>${[...groups.keys()].map((tag) => `<a href="#tag-${text(tag)}">${text(tag)}</a>`).join("")}</nav>
${[...groups].map(([tag, ops]) => `<h2 id="tag-${text(tag)}">${text(tag)}</h2>${ops.join("\n")}`).join("\n")}
</body></html>`;
}
