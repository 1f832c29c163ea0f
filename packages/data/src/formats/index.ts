import { checkMessages } from "./messages.js";
import { checkPromptChosenRejected } from "./prompt-chosen-rejected.js";
import { checkPromptResponse } from "./prompt-response.js";
import { checkPromptSortedResponses } from "./prompt-sorted-responses.js";
import { checkText } from "./text.js";

/**
 * The dataset formats Sailfin trains on, and their names in each dialect. Internal names are
 * stored (`dataset_groups.data_format`); V1 codes and V2 names are produced only from here.
 *
 * | internal              | V1 projectType/templateType | V2 dataFormat                                   |
 * |-----------------------|-----------------------------|-------------------------------------------------|
 * | PromptResponse        | 20 / 2000                   | PromptResponse                                  |
 * | PromptSortedResponses | 20 / 2001                   | PromptSortedresponses (sic), PromptSortedResponses |
 * | PromptChosenRejected  | 20 / 2002                   | DPO_PromptChosenRejected, KTO_PromptChosenRejected |
 * | Text                  | 401 / 40100                 | Text                                            |
 * | Messages              | 20 / 2010 (Sailfin)         | Messages (Sailfin)                              |
 */
const DATA_FORMAT_NAMES = ["PromptResponse", "PromptSortedResponses", "PromptChosenRejected", "Text", "Messages"] as const;
export type DataFormat = (typeof DATA_FORMAT_NAMES)[number];

/** Checks one parsed line; returns its character count or throws a `LineProblem`. */
type RecordChecker = (value: unknown) => number;

interface FormatInfo {
  readonly name: DataFormat;
  readonly projectType: number;
  readonly templateType: number;
  /** V1 `dataType`: 4 = text (7, multimodal, is not supported). */
  readonly dataType: number;
  /** V2 `dataFormat` names accepted on input; the first is the one rendered. */
  readonly v2Names: readonly string[];
  readonly check: RecordChecker;
}

export const FORMATS: readonly FormatInfo[] = [
  { name: "PromptResponse", projectType: 20, templateType: 2000, dataType: 4, v2Names: ["PromptResponse"], check: checkPromptResponse },
  {
    name: "PromptSortedResponses", projectType: 20, templateType: 2001, dataType: 4,
    // The reference spells the V2 value `PromptSortedresponses`; accept the regular casing too.
    v2Names: ["PromptSortedresponses", "PromptSortedResponses"], check: checkPromptSortedResponses,
  },
  {
    name: "PromptChosenRejected", projectType: 20, templateType: 2002, dataType: 4,
    // One line shape serves both DPO and KTO; only the trainer differs.
    v2Names: ["DPO_PromptChosenRejected", "KTO_PromptChosenRejected"], check: checkPromptChosenRejected,
  },
  { name: "Text", projectType: 401, templateType: 40100, dataType: 4, v2Names: ["Text"], check: checkText },
  { name: "Messages", projectType: 20, templateType: 2010, dataType: 4, v2Names: ["Messages"], check: checkMessages },
];

/** The format with this internal name. */
export function formatInfo(name: DataFormat): FormatInfo {
  const info = FORMATS.find((f) => f.name === name);
  if (info === undefined) throw new Error(`unknown data format ${name}`);
  return info;
}

export function isDataFormat(value: string): value is DataFormat {
  return (DATA_FORMAT_NAMES as readonly string[]).includes(value);
}

/**
 * Resolves a V2 `dataFormat` (or an internal name); undefined when unsupported.
 *
 * @example formatFromV2("KTO_PromptChosenRejected")?.name // "PromptChosenRejected"
 */
export function formatFromV2(dataFormat: string): FormatInfo | undefined {
  return FORMATS.find((f) => f.v2Names.includes(dataFormat) || f.name === dataFormat);
}

/** Resolves a V1 `projectType` + `templateType` pair; undefined when unsupported. */
export function formatFromV1(projectType: number, templateType: number): FormatInfo | undefined {
  return FORMATS.find((f) => f.projectType === projectType && f.templateType === templateType);
}

/** Every V2 `dataFormat` name accepted on input (for error messages and CLI help). */
export const V2_FORMAT_NAMES: readonly string[] = FORMATS.flatMap((f) => f.v2Names);
