import { describe, expect, it } from "vitest";
import { clock, when } from "./time";

describe("times", () => {
  it("use a 24-hour clock with seconds", () => {
    const late = new Date(2026, 10, 27, 23, 5, 9).toISOString();
    expect(clock(late)).toMatch(/23.05.09/);
    expect(when(late)).toMatch(/23.05.09/);
  });
  it("show what cannot be read as it came", () => {
    expect(when("not a time")).toBe("not a time");
  });
});
