import { readFileSync } from "node:fs";

/** The file's text, or null when there is no such file yet (a first start). */
export function readTextIfExists(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}
