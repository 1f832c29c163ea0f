import { z } from "zod";

/** `POST /sailfin/v1/session`'s body (session.ts says why it lives apart). */
export const SignInBody = z.object({
  accessKey: z.string().min(1).max(128),
  secretKey: z.string().min(1).max(256),
});
export type SignInBody = z.infer<typeof SignInBody>;
