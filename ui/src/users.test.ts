import { describe, expect, it } from "vitest";
import { grantsText, passwordProblem, sortUsers, withGrant, withoutGrant } from "./users";
import type { User } from "./generated/hub";

describe("accounts", () => {
  it("says why a password will not do before the hub is asked", () => {
    expect(passwordProblem("short", "short")).toMatch(/at least 8/);
    // Characters, not UTF-16 units: four emoji are four characters.
    expect(passwordProblem("🔑🔑🔑🔑", "🔑🔑🔑🔑")).toMatch(/at least 8/);
    expect(passwordProblem("long enough", "long enougH")).toMatch(/differ/);
    expect(passwordProblem("long enough", "long enough")).toBeNull();
  });

  it("reads grants in words, naming sites", () => {
    const names = new Map([["hq", "Headquarters"]]);
    expect(grantsText([], names)).toBe("No access");
    expect(
      grantsText(
        [
          { site: "hq", role: "guard" },
          { site: "*", role: "it-admin" },
          { site: "lab", role: "manager" },
        ],
        names,
      ),
    ).toBe("Guard at Headquarters, IT admin everywhere, Manager at lab");
  });

  it("keeps one grant a site, every site first", () => {
    let grants = withGrant([], { site: "hq", role: "guard" });
    grants = withGrant(grants, { site: "*", role: "it-admin" });
    grants = withGrant(grants, { site: "hq", role: "supervisor" });
    expect(grants).toEqual([
      { site: "*", role: "it-admin" },
      { site: "hq", role: "supervisor" },
    ]);
    expect(withoutGrant(grants, "*")).toEqual([{ site: "hq", role: "supervisor" }]);
  });

  it("lists enabled users first", () => {
    const user = (id: string, name: string, disabled: boolean): User => ({ id, username: id, display_name: name, grants: [], disabled });
    expect(sortUsers([user("c", "Cy", true), user("b", "Bo", false), user("a", "Al", false)]).map((u) => u.id)).toEqual(["a", "b", "c"]);
  });
});
