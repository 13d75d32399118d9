import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { readTextIfExists } from "./read-text-if-exists.ts";
import type { BoundCard } from "./simulator-context.ts";

/**
 * The simulator's bound cards by token. With a file, every change is written
 * to it (and read back at start), so a restart of `npm start` keeps every
 * stored token chargeable, as Oen's tokens stay. Without one, memory only.
 */
export class CardStore extends Map<string, BoundCard> {
  readonly #file: string | null;

  constructor(file: string | null = null) {
    super();
    this.#file = file;
    if (file !== null) for (const card of readCards(file)) super.set(card.token, card);
  }

  override set(token: string, card: BoundCard): this {
    super.set(token, card);
    this.save();
    return this;
  }

  /** Writes the cards after one of them changed in place (its charge count, its behaviour). */
  save(): void {
    if (this.#file === null) return;
    mkdirSync(dirname(this.#file), { recursive: true });
    // Infinity (a card that always declines) has no JSON form: stored as null.
    const cards = [...this.values()].map((card) => ({ ...card, behaviour: { ...card.behaviour, declines: Number.isFinite(card.behaviour.declines) ? card.behaviour.declines : null } }));
    const temporary = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(cards), { mode: 0o600 });
    renameSync(temporary, this.#file);
  }
}

function readCards(file: string): BoundCard[] {
  const text = readTextIfExists(file);
  if (text === null) return [];
  const cards = JSON.parse(text) as Array<BoundCard & { behaviour: { declines: number | null } }>;
  return cards.map((card) => ({ ...card, behaviour: { ...card.behaviour, declines: card.behaviour.declines ?? Infinity } }));
}
