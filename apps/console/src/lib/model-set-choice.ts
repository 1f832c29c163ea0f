import { useCallback, useRef, useState } from "react";
import { useSession } from "./session.js";

/**
 * "Into which model set?" for the forms that make a version (import, publish, compress): an
 * existing set, or a new one by name, created only when the form is submitted. A set created by
 * a submit that then failed further on is reused by the retry, not created twice.
 */

/** The select's value for "a new set". */
export const NEW_SET = "__new__";
const SET_NAME = /^[A-Za-z0-9_.-]{2,50}$/;

export interface ModelSetChoice {
  readonly setId: string;
  readonly isNew: boolean;
  /** The new set's name field: what was typed, else the suggestion. */
  readonly nameInput: string;
  /** That name, trimmed: what would be created. */
  readonly newName: string;
  readonly nameError: string | undefined;
  /** Whether the choice can be submitted. */
  readonly ready: boolean;
  choose(setId: string): void;
  rename(name: string): void;
  /** The chosen set's id, creating the new set first when that is the choice. */
  resolve(signal?: AbortSignal): Promise<string>;
}

export function useModelSetChoice(options: { initialSetId?: string | undefined; suggestedName?: string } = {}): ModelSetChoice {
  const { client } = useSession();
  const [setId, choose] = useState(options.initialSetId ?? NEW_SET);
  const [typed, rename] = useState<string | null>(null);
  const created = useRef<{ name: string; id: string } | null>(null);
  const isNew = setId === NEW_SET;
  const suggested = (options.suggestedName ?? "").replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 50);
  const nameInput = typed ?? suggested;
  const newName = nameInput.trim();
  const nameError = isNew && newName !== "" && !SET_NAME.test(newName) ? "use 2 to 50 letters, digits, _ - ." : undefined;
  const resolve = useCallback(async (signal?: AbortSignal) => {
    if (!isNew) return setId;
    if (created.current?.name === newName) return created.current.id;
    const id = await client.models.createSet({ modelSetName: newName, modelType: "Text2Text" }, signal === undefined ? {} : { signal });
    created.current = { name: newName, id };
    return id;
  }, [client, isNew, newName, setId]);
  return { setId, isNew, nameInput, newName, nameError, ready: !isNew || (newName !== "" && nameError === undefined), choose, rename, resolve };
}
