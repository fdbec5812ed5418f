import type { AppError } from "./generated/app";

/** An error the operator must see, with its code for tests and tools; nothing when none. */
export function ErrorNote({ error }: { error: AppError | null | undefined }) {
  if (!error) return null;
  return (
    <p className="error" role="alert" data-code={error.code}>
      {error.message}
    </p>
  );
}
