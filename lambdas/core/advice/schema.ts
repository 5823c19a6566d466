// What the model must answer, as a zod schema: the connector turns it into the
// JSON schema of OpenAI's structured outputs (strict mode: every field present,
// optional ones nullable) and parses the answer with it. The schema carries no
// numeric bounds: Azure OpenAI's structured outputs reject `minimum`/`maximum`,
// so bounds are checked after parsing (outputProblem) instead.

import { z } from 'zod';

export const RECOMMENDATIONS = ['approve', 'deny', 'needs-info'] as const;

export const modelOutputSchema = z.object({
  recommendation: z.enum(RECOMMENDATIONS),
  /** 0 to 1; checked after parsing (see outputProblem), not in the schema sent. */
  confidence: z.number(),
  /** Asked for in at most 280 characters; longer ones are cut and counted as a defect. */
  summary: z.string(),
  reasons: z.array(
    z.object({
      text: z.string(),
      /** Evidence ids (E3), signal ids (S1) or policy excerpt ids (access-policy#3.1) the reason rests on. */
      evidence: z.array(z.string()),
    }),
  ),
  concerns: z.array(z.string()),
  /** A shorter duration than asked, as the catalog writes durations (4h, 2d), or null. */
  suggestedDuration: z.string().nullable(),
  /** The id of a narrower entitlement offered in the prompt, or null. */
  narrowerAlternative: z.string().nullable(),
});

export type ModelOutput = z.output<typeof modelOutputSchema>;

/** The name the schema goes by in the request (`response_format.json_schema.name`). */
export const MODEL_OUTPUT_NAME = 'access_recommendation';

/** What the schema sent cannot say: the bounds of numbers. Undefined when the answer is within them. */
export function outputProblem(output: ModelOutput): string | undefined {
  const { confidence } = output;
  if (!Number.isFinite(confidence) || confidence < 0 || confidence > 1)
    return `confidence ${String(confidence)} is outside 0 to 1`;
  return undefined;
}
