// Shared JSON schemas of the platform API (also published as OpenAPI).

export const platformId = { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$", description: "letters, digits, _ and -; at most 64" } as const;
export const httpUrl = { type: "string", format: "uri", pattern: "^https?://", maxLength: 2048 } as const;
export const errorResponse = {
  type: "object",
  properties: { error: { type: "string" }, message: { type: "string" } },
} as const;
export const idParams = { type: "object", required: ["id"], properties: { id: platformId } } as const;
