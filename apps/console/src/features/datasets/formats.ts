/** The V2 `dataFormat` names the server imports (packages/data/src/formats), with what each holds. */
export const DATA_FORMATS: ReadonlyArray<{ readonly value: string; readonly label: string; readonly example: string }> = [
  { value: "PromptResponse", label: "Prompt + response (SFT)", example: '[{"prompt": "Hi", "response": [["Hello!"]]}]' },
  { value: "Messages", label: "Chat messages (SFT)", example: '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}' },
  { value: "PromptSortedResponses", label: "Prompt + ranked responses", example: '[{"prompt": "Hi", "response": [["Hello!", "Hey"]]}]' },
  { value: "DPO_PromptChosenRejected", label: "Preference pairs (DPO)", example: '[{"user": "Hi", "chosen": "Hello!", "rejected": "Go away"}]' },
  { value: "KTO_PromptChosenRejected", label: "Preference pairs (KTO)", example: '[{"user": "Hi", "chosen": "Hello!", "rejected": "Go away"}]' },
  { value: "Text", label: "Plain text (post-pretraining)", example: '{"text": "Some text to learn from."}' },
];

/** Where the console puts uploaded dataset files: one folder per dataset version. */
export const UPLOAD_BUCKET = "console-uploads";
